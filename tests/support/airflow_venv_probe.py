"""Run by the Python of an Airflow environment the provider was pip-installed into:
prints, as JSON, what that Airflow makes of the provider (the providers manager, the
trigger and hook class paths as the triggerer and the API server import them, the
connection form the UI gets), and, given ``API_URL TOKEN...``, what the connection
form's Test button says for a ``heartbeat`` connection with each token."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

TRIGGER = "heartbeat_operator.triggers.HeartbeatTrigger"


def providers() -> dict[str, Any]:
    from airflow._shared.module_loading import import_string  # as the triggerer does
    from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService
    from airflow.providers_manager import ProvidersManager
    from airflow.triggers.base import BaseTrigger

    manager = ProvidersManager()
    hook = manager.hooks["heartbeat"]
    assert hook is not None
    form = {m.connection_type: m for m in HookMetaService.hook_meta_data()}["heartbeat"]
    fields = form.standard_fields
    return {
        "version": manager.providers["heartbeat-operator"].version,
        "hook": {"class": hook.hook_class_name, "testable": hook.connection_testable,
                 "package": hook.package_name,
                 "imports": import_string(hook.hook_class_name).__name__},
        "trigger_modules": sorted(t.trigger_class_name for t in manager.trigger
                                  if t.package_name == "heartbeat-operator"),
        "trigger_imports": issubclass(import_string(TRIGGER), BaseTrigger),
        "extra_links": sorted(link for link in manager.extra_links_class_names
                              if link.startswith("heartbeat_operator.")),
        "form": {"password": fields.password.title if fields and fields.password else None,
                 "login_hidden": bool(fields and fields.login and fields.login.hidden),
                 "extra_fields": sorted(form.extra_fields or {})},
    }


def test_button(api_url: str, tokens: list[str]) -> list[list[Any]]:
    """As ``POST /api/v2/connections/test`` does: the connection in an environment
    variable, then ``Connection.test_connection()``."""
    from airflow.models.connection import Connection

    host, port = api_url.removeprefix("http://").split(":")
    answers = []
    for token in tokens:
        conn = Connection(conn_id="hb_probe", conn_type="heartbeat", host=host,
                          port=int(port), schema="http", password=token)
        os.environ["AIRFLOW_CONN_HB_PROBE"] = conn.get_uri()
        answers.append(list(conn.test_connection()))
    return answers


if __name__ == "__main__":
    report: dict[str, Any] = {"providers": providers()}
    if len(sys.argv) > 2:
        report["test_button"] = test_button(sys.argv[1], sys.argv[2:])
    print(json.dumps(report))
