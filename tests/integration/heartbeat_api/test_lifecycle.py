"""An execution's life through the API: register, beat, progress, cancel, complete, read."""

from __future__ import annotations

import httpx
import pytest
from hbapi_helpers import ADMIN, SECRET
from heartbeat_api.auth import execution_token
from redis.asyncio import Redis

pytestmark = pytest.mark.integration


async def _register(client: httpx.AsyncClient) -> tuple[str, dict[str, str]]:
    """Registers an execution; returns its id and the writer headers of its token."""
    answer = await client.post(
        "/api/v1/monitoring/executions",
        json={
            "dag_id": "crawler_collection",
            "task_id": "collect",
            "run_id": "manual__1",
            "container_name": "task-x",
        },
        headers=ADMIN,
    )
    assert answer.status_code == 201
    registered = answer.json()
    execution_id: str = registered["execution_id"]
    assert registered["status"] == "pending"
    assert registered["token"] == execution_token(SECRET, execution_id)
    return execution_id, {"Authorization": f"Bearer {registered['token']}"}


async def _beat_then_cancel(
    client: httpx.AsyncClient, execution_id: str, writer: dict[str, str]
) -> None:
    """A running beat, a cancel, then a stopping beat (no progress) that hears the cancel."""
    beat = {
        "execution_id": execution_id,
        "container_name": "task-x",
        "status": "running",
        "progress": {"stage": "fetching", "pages_done": 3},
        "timestamp": 1_700_000_000,
        "protocol_version": 1,
    }
    answer = await client.post("/api/v1/monitoring/heartbeat", json=beat, headers=writer)
    assert answer.json() == {"status": "ok", "cancel_requested": False}

    answer = await client.post(
        f"/api/v1/monitoring/executions/{execution_id}/cancel", headers=ADMIN
    )
    assert answer.status_code == 200 and answer.json()["cancel_requested"] is True
    stopping = {**beat, "status": "stopping", "progress": None}
    answer = await client.post("/api/v1/monitoring/heartbeat", json=stopping, headers=writer)
    assert answer.json() == {"status": "ok", "cancel_requested": True}


async def _complete_cancelled(
    client: httpx.AsyncClient, execution_id: str, writer: dict[str, str]
) -> None:
    completion = {
        "execution_id": execution_id,
        "container_name": "task-x",
        "success": False,
        "status": "cancelled",
        "result_data": {"pages": 3},
        "error_message": None,
        "protocol_version": 1,
    }
    answer = await client.post("/api/v1/monitoring/completion", json=completion, headers=writer)
    assert answer.json() == {
        "status": "ok",
        "execution_id": execution_id,
        "execution_status": "cancelled",
    }


async def _check_status(client: httpx.AsyncClient, execution_id: str) -> None:
    status = (
        await client.get(f"/api/v1/task/execution/{execution_id}/status", headers=ADMIN)
    ).json()
    assert status["status"] == "cancelled"
    assert status["progress"] == {"stage": "fetching", "pages_done": 3}  # kept: None sent
    assert status["result_data"] == {"pages": 3}
    assert status["container_status"] == "stopping"
    assert status["dag_id"] == "crawler_collection" and status["run_id"] == "manual__1"
    assert status["started_at"] <= status["last_heartbeat_at"] <= status["finished_at"]
    assert [t["status"] for t in status["transitions"]] == ["pending", "running", "cancelled"]


async def _check_history_and_listing(client: httpx.AsyncClient, execution_id: str) -> None:
    history = (
        await client.get(f"/api/v1/monitoring/heartbeat/{execution_id}?count=10", headers=ADMIN)
    ).json()
    assert history["container_status"] == "stopping"
    assert [(e["type"], e["status"]) for e in history["history"]] == [
        ("state", "pending"),
        ("state", "running"),
        ("heartbeat", "running"),
        ("cancel", "running"),
        ("heartbeat", "stopping"),
        ("state", "cancelled"),
    ]
    listing = (await client.get("/api/v1/monitoring/executions", headers=ADMIN)).json()
    assert [e["execution_id"] for e in listing["executions"]] == [execution_id]


async def test_register_beat_cancel_and_complete(client: httpx.AsyncClient) -> None:
    execution_id, writer = await _register(client)
    await _beat_then_cancel(client, execution_id, writer)
    await _complete_cancelled(client, execution_id, writer)
    await _check_status(client, execution_id)
    await _check_history_and_listing(client, execution_id)


async def test_guide_bodies_without_optional_fields_or_content_type(
    client: httpx.AsyncClient,
) -> None:
    """The guide's curl sends no progress/timestamp; urllib labels JSON form-encoded."""
    await client.post("/api/v1/monitoring/executions", json={"execution_id": "test"}, headers=ADMIN)
    writer = {
        "Authorization": f"Bearer {execution_token(SECRET, 'test')}",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    answer = await client.post(
        "/api/v1/monitoring/heartbeat",
        content=b'{"execution_id":"test","container_name":"test","status":"running"}',
        headers=writer,
    )
    assert answer.status_code == 200, answer.text
    answer = await client.post(
        "/api/v1/monitoring/completion",
        content=b'{"execution_id":"test","container_name":"test","success":true,'
        b'"result_data":{},"error_message":null,"future_field":1}',
        headers=writer,
    )
    assert answer.json()["execution_status"] == "completed"


async def test_long_error_message_is_truncated_not_refused(client: httpx.AsyncClient) -> None:
    await client.post(
        "/api/v1/monitoring/executions", json={"execution_id": "e-long"}, headers=ADMIN
    )
    writer = {"Authorization": f"Bearer {execution_token(SECRET, 'e-long')}"}
    answer = await client.post(
        "/api/v1/monitoring/completion",
        json={"execution_id": "e-long", "success": False, "error_message": "E" * 20_000},
        headers=writer,
    )
    assert answer.json()["execution_status"] == "failed"
    status = (await client.get("/api/v1/task/execution/e-long/status", headers=ADMIN)).json()
    assert status["error_message"].endswith("[truncated]")
    assert len(status["error_message"]) == 8 * 1024


async def test_healthz_docs_and_openapi(client: httpx.AsyncClient, redis: Redis) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok", "redis": "ok"}
    assert (await client.get("/docs")).status_code == 200
    spec = (await client.get("/openapi.json")).json()
    assert {
        "/api/v1/monitoring/executions",
        "/api/v1/monitoring/heartbeat",
        "/api/v1/monitoring/completion",
        "/api/v1/monitoring/heartbeat/{execution_id}",
        "/api/v1/task/execution/{execution_id}/status",
        "/api/v1/monitoring/executions/{execution_id}/cancel",
        "/healthz",
        "/metrics",
    } <= set(spec["paths"])
    heartbeat_body = spec["paths"]["/api/v1/monitoring/heartbeat"]["post"]["requestBody"]
    schema = heartbeat_body["content"]["application/json"]["schema"]
    assert {"execution_id", "progress", "protocol_version"} <= set(schema["properties"])
