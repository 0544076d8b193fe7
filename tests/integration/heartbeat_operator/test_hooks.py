"""The `heartbeat` connection's Test button against the real heartbeat API: passes with
the admin token, fails naming the token or Redis otherwise, never showing the token."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from heartbeat_operator.hooks import HeartbeatApiHook
from heartbeat_servers import free_port, redis_server, running_heartbeat_api

pytestmark = pytest.mark.integration

ADMIN_TOKEN = "test-button-admin-token-0123456789"
SECRET = "test-button-secret-0123456789abcdef"


@pytest.fixture(scope="module")
def api_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    logs = tmp_path_factory.mktemp("test-button")
    with (redis_server(logs / "redis.log") as redis_url,
          running_heartbeat_api(redis_url, secret=SECRET, admin_token=ADMIN_TOKEN,
                                log_path=logs / "api.log") as api):
        yield api.base_url


@pytest.fixture()
def api_without_redis(tmp_path: Path) -> Iterator[str]:
    closed = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    with running_heartbeat_api(closed, secret=SECRET, admin_token=ADMIN_TOKEN,
                               log_path=tmp_path / "api.log", wait_healthy=False) as api:
        yield api.base_url


def press_test(monkeypatch: pytest.MonkeyPatch, base_url: str, token: str) -> tuple[bool, str]:
    host, port = base_url.removeprefix("http://").split(":")
    monkeypatch.setenv("AIRFLOW_CONN_HB_REAL", json.dumps({
        "conn_type": "heartbeat", "host": host, "port": int(port), "schema": "http",
        "password": token}))
    return HeartbeatApiHook(heartbeat_api_conn_id="hb_real").test_connection()


def test_the_admin_token_passes(monkeypatch: pytest.MonkeyPatch, api_url: str) -> None:
    ok, message = press_test(monkeypatch, api_url, ADMIN_TOKEN)
    assert (ok, message) == (True, f"heartbeat API at {api_url} answers, accepts the admin "
                                   "token and reaches its Redis")


def test_a_wrong_token_fails_naming_the_token(monkeypatch: pytest.MonkeyPatch,
                                              api_url: str) -> None:
    wrong = "not-the-admin-token-0123456789"
    ok, message = press_test(monkeypatch, api_url, wrong)
    assert not ok
    assert message == (f"heartbeat API at {api_url}: the admin token was refused (401): set "
                       "the connection's Admin token to the API's HEARTBEAT_ADMIN_TOKEN")
    assert wrong not in message


def test_redis_down_behind_the_api_fails_naming_redis(
    monkeypatch: pytest.MonkeyPatch, api_without_redis: str
) -> None:
    ok, message = press_test(monkeypatch, api_without_redis, ADMIN_TOKEN)
    assert not ok
    assert message == (
        f"heartbeat API at {api_without_redis}: the API cannot reach its Redis (/healthz: "
        "redis unreachable): check its HEARTBEAT_REDIS_URL and that Redis runs")
    assert ADMIN_TOKEN not in message
