"""The environment of docs/contracts/environment.md, constructor checks, load_config()."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from heartbeat_client import ConfigurationError, HeartbeatClient, HeartbeatError, load_config

FULL_ENV = {
    "TASK_EXECUTION_ID": "550e8400-e29b-41d4-a716-446655440000",
    "API_BASE_URL": "http://heartbeat-api:8000/",
    "HEARTBEAT_TOKEN": "secret-token",
    "HOSTNAME": "task-550e8400",
    "HEARTBEAT_INTERVAL": "2.5",
    "OUTPUT_DIR": "/data/out",
}


def test_from_env_reads_every_variable() -> None:
    client = HeartbeatClient.from_env(FULL_ENV)
    assert client.execution_id == FULL_ENV["TASK_EXECUTION_ID"]
    assert client.api_base_url == "http://heartbeat-api:8000"
    assert client.heartbeat_url == "http://heartbeat-api:8000/api/v1/monitoring/heartbeat"
    assert client.completion_url == "http://heartbeat-api:8000/api/v1/monitoring/completion"
    assert client.container_name == "task-550e8400"
    assert client.heartbeat_interval == 2.5
    assert client.output_dir == "/data/out"


def test_from_env_defaults_interval_and_output_dir() -> None:
    env = {k: v for k, v in FULL_ENV.items() if k not in ("HEARTBEAT_INTERVAL", "OUTPUT_DIR")}
    client = HeartbeatClient.from_env(env)
    assert client.heartbeat_interval == 5.0
    assert client.output_dir == "/app/output"


@pytest.mark.parametrize("missing", ["TASK_EXECUTION_ID", "API_BASE_URL", "HEARTBEAT_TOKEN"])
def test_from_env_names_a_missing_variable(missing: str) -> None:
    env = {k: v for k, v in FULL_ENV.items() if k != missing}
    with pytest.raises(ConfigurationError, match=missing):
        HeartbeatClient.from_env(env)


@pytest.mark.parametrize("interval", ["abc", "0", "-3", "nan", "inf"])
def test_from_env_refuses_a_bad_interval(interval: str) -> None:
    with pytest.raises(ConfigurationError, match="HEARTBEAT_INTERVAL"):
        HeartbeatClient.from_env({**FULL_ENV, "HEARTBEAT_INTERVAL": interval})


def test_from_env_refuses_a_url_without_scheme() -> None:
    with pytest.raises(ConfigurationError, match="API_BASE_URL"):
        HeartbeatClient.from_env({**FULL_ENV, "API_BASE_URL": "heartbeat-api:8000"})


def test_errors_in_messages_never_contain_the_token() -> None:
    with pytest.raises(ConfigurationError) as caught:
        HeartbeatClient.from_env({**FULL_ENV, "HEARTBEAT_INTERVAL": "x"})
    assert "secret-token" not in str(caught.value)


def test_guide_constructor_defaults_and_token_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEARTBEAT_TOKEN", "from-env")
    client = HeartbeatClient(
        api_base_url="http://localhost:8000", execution_id="e1", container_name="c1"
    )
    assert client.heartbeat_interval == 30
    assert client._token == "from-env"
    assert client.task_status == "running"
    assert client.task_progress == {}
    assert client.is_running is False


def test_constructor_refuses_an_empty_execution_id() -> None:
    with pytest.raises(ConfigurationError, match="execution_id"):
        HeartbeatClient("http://localhost:8000", "  ", "c1")


def test_configuration_error_is_a_heartbeat_error() -> None:
    assert issubclass(ConfigurationError, HeartbeatError)


def test_load_config_reads_config_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config_file = tmp_path / "config.json"
    config_file.write_text(json.dumps({"task_name": "电商网站爬虫"}), encoding="utf-8")
    monkeypatch.setenv("CONFIG_PATH", str(config_file))
    assert load_config() == {"task_name": "电商网站爬虫"}
    assert load_config(config_file) == {"task_name": "电商网站爬虫"}


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "does not exist"), ("{not json", "not valid JSON"), ("[1, 2]", "JSON object")],
)
def test_load_config_errors_name_the_file(
    tmp_path: Path, content: str | None, message: str
) -> None:
    config_file = tmp_path / "config.json"
    if content is not None:
        config_file.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigurationError, match=message) as caught:
        load_config(config_file)
    assert str(config_file) in str(caught.value)
