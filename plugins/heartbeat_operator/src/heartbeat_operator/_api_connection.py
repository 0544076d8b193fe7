"""The heartbeat API as an Airflow connection.

The ``heartbeat`` connection type's form (declared in provider info, see
``heartbeat_operator.provider``), reading a connection into an address and a token
(``heartbeat`` connections, and ``http`` ones for those who made them before the type
existed), and what the form's Test button checks. No Airflow state here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from heartbeat_contract import http

from heartbeat_operator.links import ui_url_from_connection

CONN_TYPE = "heartbeat"
HOOK_NAME = "Heartbeat API"
DEFAULT_CONN_ID = "heartbeat_api"

# Airflow 3.2+ reads these from provider info without importing the hook
# (`ui-field-behaviour`, `conn-fields`); hooks defining them in Python are deprecated.
UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["login"],
    "relabeling": {
        "host": "API host",
        "port": "API port",
        "schema": "Scheme (http or https)",
        "password": "Admin token",
    },
    "placeholders": {
        "host": "heartbeat-api.example.com (as Airflow reaches the API)",
        "port": "8000",
        "schema": "http",
        "password": "the API's HEARTBEAT_ADMIN_TOKEN",
    },
}

CONN_FIELDS: dict[str, Any] = {
    "container_url": {
        "label": "Container URL",
        "description": "The API's address as task containers reach it, e.g. "
        "http://host.docker.internal:8000 (default: the address above).",
        "schema": {"type": ["string", "null"]},
    },
    "ui_url": {
        "label": "Live view URL",
        "description": "The live view's address as a browser reaches it, e.g. "
        "https://heartbeat.example.com/ui (default: the address above + /ui).",
        "schema": {"type": ["string", "null"]},
    },
}

TIMEOUT_SECONDS = 10.0


def field_behaviour() -> dict[str, Any]:
    """UI_FIELD_BEHAVIOUR in the spelling of ``BaseHook.get_ui_field_behaviour``."""
    return {key.replace("-", "_"): value for key, value in UI_FIELD_BEHAVIOUR.items()}


@dataclass(frozen=True)
class ApiConnection:
    """Where the heartbeat API is, for Airflow, for containers and for browsers."""

    conn_id: str
    base_url: str
    container_url: str
    ui_url: str
    token: str = field(repr=False)

    @classmethod
    def from_connection(cls, conn: Any) -> ApiConnection:
        """From a ``heartbeat`` (or ``http``) connection; ValueError naming the field."""
        conn_id = conn.conn_id
        if not conn.host:
            raise ValueError(f"connection {conn_id!r} has no host (the heartbeat API's host)")
        if not conn.password:
            raise ValueError(f"connection {conn_id!r} has no password (the admin token)")
        host = str(conn.host).rstrip("/")
        if "://" in host:  # a host given as a URL
            base_url = host
        else:
            port = f":{conn.port}" if conn.port else ""
            base_url = f"{conn.schema or 'http'}://{host}{port}"
        extra = conn.extra_dejson or {}
        return cls(
            conn_id=conn_id,
            base_url=base_url,
            container_url=str(extra.get("container_url") or base_url).rstrip("/"),
            ui_url=ui_url_from_connection(conn),
            token=str(conn.password),
        )

    def client(self, *, timeout: float = TIMEOUT_SECONDS) -> httpx.Client:
        """A client sending the admin token (for the Test button; tasks use async)."""
        return httpx.Client(base_url=self.base_url, timeout=timeout,
                            headers=auth_headers(self.token))


def auth_headers(token: str) -> dict[str, str]:
    return {http.AUTHORIZATION_HEADER: f"{http.BEARER} {token}"}


def check(api: ApiConnection, client: httpx.Client) -> tuple[bool, str]:
    """Ask the API what the Test button reports: ``/healthz`` (reachable, Redis) and an
    admin-only listing (the token). The message names what failed, never the token."""
    try:
        health = client.get(http.HEALTH)
        listing = client.get(http.EXECUTIONS, params={"limit": 1})
    except httpx.HTTPError as exc:
        return False, (f"heartbeat API at {api.base_url} is unreachable "
                       f"({type(exc).__name__}: {exc}): check the host, port and scheme")
    ok, message = judge(api.base_url, health.status_code, _json(health),
                        listing.status_code)
    return ok, message.replace(api.token, "***")


def judge(base_url: str, health_status: int, health_body: Any,
          listing_status: int) -> tuple[bool, str]:
    """The verdict from the two answers: pure, so every case is tested on its own."""
    redis = health_body.get("redis") if isinstance(health_body, dict) else None
    if health_status not in (200, 503) or redis is None:
        return False, (f"{base_url}{http.HEALTH} answered {health_status} without a Redis "
                       f"status: is {base_url} the heartbeat API?")
    problems = []
    if listing_status in (401, 403):
        problems.append(f"the admin token was refused ({listing_status}): set the "
                        "connection's Admin token to the API's HEARTBEAT_ADMIN_TOKEN")
    elif listing_status != 200 and not (listing_status == 503 and redis != "ok"):
        problems.append(f"GET {http.EXECUTIONS} answered {listing_status}")
    if redis != "ok":
        problems.append(f"the API cannot reach its Redis ({http.HEALTH}: redis {redis}): "
                        "check its HEARTBEAT_REDIS_URL and that Redis runs")
    if problems:
        return False, f"heartbeat API at {base_url}: " + "; ".join(problems)
    return True, (f"heartbeat API at {base_url} answers, accepts the admin token and "
                  "reaches its Redis")


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None
