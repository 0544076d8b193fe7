"""The task-type registry: lookups, the API type's incremental capability, unknown
types, and a TaskConfig whose allowed types and sections are the registry's."""

from __future__ import annotations

import copy
import typing
from typing import Any

import pytest
from pydantic import BaseModel
from task_config import (
    SECTION_BY_TYPE,
    ApiConfig,
    ConfigError,
    CrawlerConfig,
    DatabaseConfig,
    SectionIncremental,
    TaskConfig,
    UnknownTaskType,
    incremental_state,
    task_type,
    task_type_of,
    task_types,
    validate_config,
)
from task_config.models import TaskConfigBase

API_CONFIG: dict[str, Any] = {
    "task_name": "shop API",
    "task_type": "api",
    "docker_image": "data-collection-api:latest",
    "api_config": {
        "base_url": "http://shop.example",
        "endpoint": "/api/v1/products",
        "incremental": {"cursor_field": "id", "param": "since_id"},
    },
}


def api_config(**incremental: Any) -> dict[str, Any]:
    config = copy.deepcopy(API_CONFIG)
    if incremental.pop("off", False):
        del config["api_config"]["incremental"]
    else:
        config["api_config"]["incremental"].update(incremental)
    return config


# -- lookups ------------------------------------------------------------------------
def test_the_bundled_task_types_come_first_in_order() -> None:
    # A type added later goes anywhere; these four keep their order.
    names = [t.name for t in task_types()]
    bundled = ["crawler", "api", "database", "custom"]
    assert [n for n in names if n in bundled] == bundled
    assert len(set(names)) == len(names)


@pytest.mark.parametrize(("name", "section", "model", "image"), [
    ("crawler", "crawler_config", CrawlerConfig, "data-collection-crawler:latest"),
    ("api", "api_config", ApiConfig, "data-collection-api:latest"),
    ("database", "database_config", DatabaseConfig, "data-collection-database:latest"),
    ("custom", "custom_config", None, None),
])
def test_lookup_by_name(name: str, section: str, model: type[BaseModel] | None,
                        image: str | None) -> None:
    kind = task_type(name)
    assert (kind.name, kind.section, kind.model, kind.image) == (name, section, model, image)
    assert kind.description and "\n" not in kind.description
    assert kind.section_required is (model is not None)


def test_of_the_bundled_types_only_api_declares_incremental_state() -> None:
    assert task_type("api").incremental == SectionIncremental("api_config")
    for name in ("crawler", "database", "custom"):
        assert task_type(name).incremental is None


@pytest.mark.parametrize("name", ["mainframe", "API", "", None, 3])
def test_an_unknown_type_names_the_known_ones(name: Any) -> None:
    with pytest.raises(UnknownTaskType, match="known task types: 'crawler', 'api'") as info:
        task_type(name)
    assert info.value.name == name
    assert isinstance(info.value, LookupError)


def test_task_type_of_a_config() -> None:
    assert task_type_of(validate_config(API_CONFIG)) is task_type("api")
    custom = validate_config({"task_name": "mine", "task_type": "custom",
                              "docker_image": "me/task:1"})
    assert task_type_of(custom) is task_type("custom")


# -- the API type's incremental capability -------------------------------------------
def test_incremental_is_on_only_when_the_config_asks() -> None:
    assert incremental_state(validate_config(api_config())) is task_type("api").incremental
    assert incremental_state(validate_config(api_config(off=True))) is None
    crawler = {"task_name": "c", "task_type": "crawler", "docker_image": "c:1",
               "crawler_config": {"target_urls": ["https://a.example/"], "data_fields": ["x"]}}
    assert incremental_state(validate_config(crawler)) is None


def test_state_in_reads_the_configs_own_state() -> None:
    capability = task_type("api").incremental
    assert capability is not None
    assert capability.state_in(validate_config(api_config())) is None
    assert capability.state_in(validate_config(api_config(state=42))) == 42
    assert capability.state_in(validate_config(api_config(off=True))) is None


def test_with_state_puts_a_stored_state_into_the_payload() -> None:
    capability = task_type("api").incremental
    assert capability is not None
    payload = validate_config(api_config()).to_json_dict()
    before = copy.deepcopy(payload)
    resumed = capability.with_state(payload, "2026-01-01T00:00:00Z")
    assert resumed["api_config"]["incremental"]["state"] == "2026-01-01T00:00:00Z"
    assert payload == before, "the caller's payload must not change"
    # What goes to the container is still a valid config carrying the state.
    assert validate_config(resumed).api_config is not None


def test_with_state_keeps_a_state_the_config_already_gives() -> None:
    capability = task_type("api").incremental
    assert capability is not None
    payload = validate_config(api_config(state=7)).to_json_dict()
    assert capability.with_state(payload, 99) == payload


@pytest.mark.parametrize("payload", [
    {"task_type": "api", "api_config": {"base_url": "http://a.example"}},
    {"task_type": "custom"},
    {"task_type": "api", "api_config": "not an object"},
])
def test_with_state_leaves_payloads_without_incremental_settings_alone(
        payload: dict[str, Any]) -> None:
    capability = task_type("api").incremental
    assert capability is not None
    assert capability.with_state(payload, 5) == payload


def test_with_no_state_the_payload_is_unchanged() -> None:
    capability = task_type("api").incremental
    assert capability is not None
    payload = validate_config(api_config()).to_json_dict()
    assert capability.with_state(payload, None) == payload


def test_state_from_result_is_the_results_state() -> None:
    capability = task_type("api").incremental
    assert capability is not None
    assert capability.state_from_result({"records": 3, "state": 120}) == 120
    assert capability.state_from_result({"records": 0}) is None


def test_the_capability_is_reusable_by_any_section() -> None:
    capability = SectionIncremental("sftp_config", key="resume", state_key="after",
                                    result_key="last_file")
    payload = {"task_type": "sftp", "sftp_config": {"resume": {}}}
    assert capability.with_state(payload, "b.csv") == {
        "task_type": "sftp", "sftp_config": {"resume": {"after": "b.csv"}}}
    assert capability.state_from_result({"last_file": "c.csv"}) == "c.csv"


# -- TaskConfig derives from the registry -------------------------------------------
def test_the_configs_allowed_types_are_the_registrys() -> None:
    annotation = TaskConfig.model_fields["task_type"].annotation
    assert typing.get_origin(annotation) is typing.Literal
    assert typing.get_args(annotation) == tuple(t.name for t in task_types())


def test_the_configs_sections_are_the_registrys() -> None:
    common = set(TaskConfigBase.model_fields)
    assert set(TaskConfig.model_fields) - common == {t.section for t in task_types()}
    assert SECTION_BY_TYPE == {t.name: t.section for t in task_types()}


def test_the_typed_views_are_real_fields() -> None:
    """The static view of TaskConfig (for mypy) lists sections that must exist."""
    for section in ("crawler_config", "api_config", "database_config", "custom_config"):
        assert section in TaskConfig.model_fields


def test_an_unregistered_type_is_refused_naming_the_field() -> None:
    with pytest.raises(ConfigError, match=r"task_type: Input should be 'crawler', 'api'"):
        validate_config({**API_CONFIG, "task_type": "mainframe"})


def test_another_types_section_is_refused() -> None:
    with pytest.raises(ConfigError, match="custom_config not allowed when task_type is 'api'"):
        validate_config({**API_CONFIG, "custom_config": {}})


def test_section_and_section_as() -> None:
    config = validate_config(API_CONFIG)
    assert config.section is config.api_config
    assert config.section_as(ApiConfig) is config.api_config
    with pytest.raises(ConfigError, match="task_type: is 'api'; this image runs tasks with a "
                                          "CrawlerConfig section"):
        config.section_as(CrawlerConfig)
    custom = validate_config({"task_name": "m", "task_type": "custom", "docker_image": "m:1",
                              "custom_config": {"a": 1}})
    assert custom.section == {"a": 1}
