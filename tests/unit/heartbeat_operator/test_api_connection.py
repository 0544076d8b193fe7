"""Reading the heartbeat API's connection (typed, and `http` as before the type
existed) and the Test button's verdict, case by case."""

from __future__ import annotations

import json
from typing import Any

import pytest
from airflow.sdk import Connection
from heartbeat_operator._api_connection import ApiConnection, field_behaviour, judge

TOKEN = "admin-token-for-unit-tests"
BASE = "http://api:8000"


def conn(conn_type: str = "heartbeat", **fields: Any) -> Connection:
    extra = fields.pop("extra", None)
    values: dict[str, Any] = {"host": "api", "port": 8000, "password": TOKEN} | fields
    return Connection(conn_id="hb", conn_type=conn_type,
                      extra=json.dumps(extra) if extra is not None else None, **values)


@pytest.mark.parametrize("conn_type", ["heartbeat", "http"])
def test_both_connection_types_give_the_same_addresses(conn_type: str) -> None:
    api = ApiConnection.from_connection(conn(conn_type, extra={
        "container_url": "http://host.docker.internal:8000/", "ui_url": "https://watch/ui"}))
    assert api.base_url == BASE
    assert api.container_url == "http://host.docker.internal:8000"
    assert api.ui_url == "https://watch/ui"
    assert api.token == TOKEN


def test_defaults_are_the_address_airflow_uses() -> None:
    api = ApiConnection.from_connection(conn(schema="https", port=None))
    assert (api.base_url, api.container_url, api.ui_url) == (
        "https://api", "https://api", "https://api/ui")


def test_a_host_given_as_a_url_is_taken_as_it_is() -> None:
    api = ApiConnection.from_connection(conn(host="http://api.example:9000/", port=None))
    assert api.base_url == "http://api.example:9000"


def test_the_token_stays_out_of_the_repr() -> None:
    assert TOKEN not in repr(ApiConnection.from_connection(conn()))


@pytest.mark.parametrize(("fields", "message"), [
    ({"password": None}, "connection 'hb' has no password (the admin token)"),
    ({"host": None}, "connection 'hb' has no host"),
])
def test_missing_fields_are_named(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ApiConnection.from_connection(conn(**fields))


def test_field_behaviour_relabels_the_password_and_hides_the_login() -> None:
    behaviour = field_behaviour()
    assert behaviour["relabeling"]["password"] == "Admin token"
    assert behaviour["hidden_fields"] == ["login"]
    assert set(behaviour) == {"hidden_fields", "relabeling", "placeholders"}


OK_HEALTH = {"status": "ok", "redis": "ok"}
DOWN_HEALTH = {"status": "unavailable", "redis": "unreachable"}


def test_all_good_is_the_only_success() -> None:
    ok, message = judge(BASE, 200, OK_HEALTH, 200)
    assert ok and message == (
        f"heartbeat API at {BASE} answers, accepts the admin token and reaches its Redis")


@pytest.mark.parametrize(("health", "body", "listing", "expected"), [
    (200, OK_HEALTH, 401, ["the admin token was refused (401)"]),
    (200, OK_HEALTH, 403, ["the admin token was refused (403)"]),
    (503, DOWN_HEALTH, 503, ["cannot reach its Redis (/healthz: redis unreachable)"]),
    (503, DOWN_HEALTH, 401, ["the admin token was refused (401)", "cannot reach its Redis"]),
    (200, OK_HEALTH, 500, ["GET /api/v1/monitoring/executions answered 500"]),
    (200, OK_HEALTH, 503, ["GET /api/v1/monitoring/executions answered 503"]),
    (404, {"detail": "Not Found"}, 404, ["/healthz answered 404 without a Redis status"]),
    (200, "plain text", 200, ["is http://api:8000 the heartbeat API?"]),
])
def test_each_failure_is_named(health: int, body: Any, listing: int,
                               expected: list[str]) -> None:
    ok, message = judge(BASE, health, body, listing)
    assert not ok
    for part in expected:
        assert part in message, message
