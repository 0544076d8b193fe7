"""The `heartbeat` connection's hook: its Test button against a fake heartbeat API
(reachable, the token, Redis behind it), and the HTTP client reading either type."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from fake_admin_api import FakeAdminApi, running
from heartbeat_operator.hooks import HeartbeatApiClient, HeartbeatApiHook

TOKEN = "admin-token-for-unit-tests"
CONN_ID = "hb_unit"


@pytest.fixture()
def api() -> Iterator[FakeAdminApi]:
    with running(FakeAdminApi(admin_token=TOKEN, execution_token="e" * 64)) as fake:
        yield fake


def use_connection(monkeypatch: pytest.MonkeyPatch, base_url: str, *,
                   conn_type: str = "heartbeat", password: str | None = TOKEN) -> None:
    host, port = base_url.removeprefix("http://").split(":")
    conn: dict[str, Any] = {"conn_type": conn_type, "host": host, "port": int(port),
                            "schema": "http", "extra": {"container_url": "http://c:1"}}
    if password is not None:
        conn["password"] = password
    monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", json.dumps(conn))


def press_test(monkeypatch: pytest.MonkeyPatch, base_url: str,
               **kwargs: Any) -> tuple[bool, str]:
    """What the connection form's Test button runs: the hook's test_connection."""
    use_connection(monkeypatch, base_url, **kwargs)
    return HeartbeatApiHook(heartbeat_api_conn_id=CONN_ID).test_connection()



def test_a_reachable_api_with_the_admin_token_and_redis_passes(
    monkeypatch: pytest.MonkeyPatch, api: FakeAdminApi
) -> None:
    ok, message = press_test(monkeypatch, api.base_url)
    assert ok, message
    assert "accepts the admin token and reaches its Redis" in message
    assert api.paths == ["/healthz", "/api/v1/monitoring/executions?limit=1"]


@pytest.mark.parametrize(("password", "status"), [("wrong-token-123456", 401), ("e" * 64, 403)])
def test_a_refused_token_fails_without_showing_it(
    monkeypatch: pytest.MonkeyPatch, api: FakeAdminApi, password: str, status: int
) -> None:
    ok, message = press_test(monkeypatch, api.base_url, password=password)
    assert not ok
    assert f"the admin token was refused ({status})" in message
    assert password not in message and TOKEN not in message


def test_redis_down_behind_the_api_fails_naming_redis(
    monkeypatch: pytest.MonkeyPatch, api: FakeAdminApi
) -> None:
    api.redis_ok = False
    ok, message = press_test(monkeypatch, api.base_url)
    assert not ok
    assert "cannot reach its Redis (/healthz: redis unreachable)" in message
    assert "admin token was refused" not in message


def test_an_unreachable_api_fails_naming_the_address(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        base_url = f"http://127.0.0.1:{probe.getsockname()[1]}"
    ok, message = press_test(monkeypatch, base_url)
    assert not ok
    assert f"heartbeat API at {base_url} is unreachable (ConnectError" in message


def test_something_else_on_the_port_fails_asking_whether_it_is_the_api(
    monkeypatch: pytest.MonkeyPatch, api: FakeAdminApi
) -> None:
    api.broken = {"/healthz"}
    ok, message = press_test(monkeypatch, api.base_url)
    assert not ok
    assert message.endswith(f"is {api.base_url} the heartbeat API?")


def test_a_connection_without_token_fails_before_any_request(
    monkeypatch: pytest.MonkeyPatch, api: FakeAdminApi
) -> None:
    ok, message = press_test(monkeypatch, api.base_url, password=None)
    assert (ok, message) == (False, f"connection {CONN_ID!r} has no password (the admin token)")
    assert api.paths == []


@pytest.mark.parametrize("conn_type", ["heartbeat", "http"])
def test_the_operators_client_reads_either_type(
    monkeypatch: pytest.MonkeyPatch, api: FakeAdminApi, conn_type: str
) -> None:
    use_connection(monkeypatch, api.base_url, conn_type=conn_type)
    client = HeartbeatApiClient(CONN_ID)
    asyncio.run(client.aclose())
    assert (client.base_url, client.container_url, client.ui_url) == (
        api.base_url, "http://c:1", f"{api.base_url}/ui")
