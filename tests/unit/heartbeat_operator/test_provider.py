"""Provider info: valid for Airflow, and what Airflow makes of it: the `heartbeat`
connection type with its hook and form, the trigger, the extra link, the options."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import airflow
import heartbeat_operator
import jsonschema
from heartbeat_operator.hooks import HeartbeatApiHook
from heartbeat_operator.provider import get_provider_info


def heartbeat_connection_type() -> dict[str, Any]:
    types = get_provider_info()["connection-types"]
    assert [t["connection-type"] for t in types] == ["heartbeat"]
    found: dict[str, Any] = types[0]
    return found


def test_provider_info_is_valid_for_airflow() -> None:
    schema = json.loads((Path(airflow.__file__).parent / "provider_info.schema.json")
                        .read_text())
    jsonschema.validate(get_provider_info(), schema)


def test_provider_info_declares_what_the_package_ships() -> None:
    info = get_provider_info()
    modules = {kind: info[kind][0]["python-modules"] for kind in ("operators", "hooks",
                                                                   "triggers")}
    assert modules == {"operators": ["heartbeat_operator.operators"],
                       "hooks": ["heartbeat_operator.hooks"],
                       "triggers": ["heartbeat_operator.triggers"]}
    assert info["extra-links"] == ["heartbeat_operator.links.ExecutionLink"]
    options = info["config"]["heartbeat_operator"]["options"]
    assert set(options) == {"ui_url", "library_log_level"}
    assert options["library_log_level"]["default"] == "WARNING"
    assert heartbeat_connection_type()["hook-class-name"] == (
        "heartbeat_operator.hooks.HeartbeatApiHook")


def test_the_hooks_field_behaviour_is_the_declared_one() -> None:
    declared = heartbeat_connection_type()["ui-field-behaviour"]
    from_hook = HeartbeatApiHook.get_ui_field_behaviour()
    assert from_hook == {key.replace("-", "_"): value for key, value in declared.items()}
    assert HeartbeatApiHook.conn_type == "heartbeat"
    assert heartbeat_operator.HeartbeatApiHook is HeartbeatApiHook


def test_airflow_lists_the_connection_type_with_its_hook() -> None:
    from airflow.sdk.providers_manager_runtime import ProvidersManagerTaskRuntime

    hook = ProvidersManagerTaskRuntime().hooks["heartbeat"]
    assert hook is not None
    assert hook.hook_class_name == "heartbeat_operator.hooks.HeartbeatApiHook"
    assert hook.connection_testable and hook.package_name == "heartbeat-operator"


def test_the_connection_form_the_ui_gets() -> None:
    from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService

    metas = {m.connection_type: m for m in HookMetaService.hook_meta_data()}
    form = metas["heartbeat"]
    assert form.hook_name == "Heartbeat API"
    fields = form.standard_fields
    assert fields is not None and fields.password is not None and fields.login is not None
    assert fields.password.title == "Admin token"
    assert fields.login.hidden
    assert form.extra_fields is not None
    assert form.extra_fields["container_url"]["schema"]["title"] == "Container URL"
    assert form.extra_fields["ui_url"]["schema"]["title"] == "Live view URL"
