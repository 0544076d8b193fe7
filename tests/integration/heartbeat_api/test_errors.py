"""Every error code of docs/contracts/http-api.md, each shown to change nothing in Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from hbapi_helpers import ADMIN, SECRET, snapshot
from heartbeat_api.auth import execution_token
from redis.asyncio import Redis

pytestmark = pytest.mark.integration

HEARTBEAT = "/api/v1/monitoring/heartbeat"
COMPLETION = "/api/v1/monitoring/completion"
REGISTER = "/api/v1/monitoring/executions"


def bearer(execution_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {execution_token(SECRET, execution_id)}"}


def beat(execution_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "execution_id": execution_id,
        "container_name": f"task-{execution_id}",
        "status": "running",
        "progress": {"pages": 1},
        "timestamp": 1_700_000_000,
        **fields,
    }


@pytest.fixture
async def running(client: httpx.AsyncClient) -> AsyncIterator[str]:
    """A registered execution that has beaten once (state running)."""
    answer = await client.post(REGISTER, json={"execution_id": "exec-a"}, headers=ADMIN)
    assert answer.status_code == 201
    answer = await client.post(HEARTBEAT, json=beat("exec-a"), headers=bearer("exec-a"))
    assert answer.status_code == 200
    # A second execution, so a token for another execution has a real target.
    await client.post(REGISTER, json={"execution_id": "exec-b"}, headers=ADMIN)
    yield "exec-a"


async def refused(
    client: httpx.AsyncClient, redis: Redis, status: int, method: str, url: str, **kw: Any
) -> httpx.Response:
    before = await snapshot(redis)
    answer = await client.request(method, url, **kw)
    assert answer.status_code == status, answer.text
    assert await snapshot(redis) == before, "a refused request changed Redis"
    return answer


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic abc"},
        {"Authorization": "Bearer not-a-token"},
    ],
    ids=["none", "empty", "basic", "garbage"],
)
async def test_401_writes_without_a_valid_execution_token(
    client: httpx.AsyncClient, redis: Redis, running: str, headers: dict[str, str]
) -> None:
    answer = await refused(
        client, redis, 401, "POST", HEARTBEAT, json=beat(running), headers=headers
    )
    assert answer.headers["www-authenticate"] == "Bearer"
    assert "token" in answer.json()["detail"]
    await refused(
        client,
        redis,
        401,
        "POST",
        COMPLETION,
        headers=headers,
        json={"execution_id": running, "success": True},
    )


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("POST", REGISTER),
        ("GET", "/api/v1/task/execution/exec-a/status"),
        ("GET", "/api/v1/monitoring/heartbeat/exec-a"),
        ("POST", "/api/v1/monitoring/executions/exec-a/cancel"),
        ("GET", "/api/v1/monitoring/executions"),
    ],
)
async def test_401_admin_endpoints_without_the_admin_token(
    client: httpx.AsyncClient, redis: Redis, running: str, method: str, url: str
) -> None:
    body = {"execution_id": "exec-new"} if method == "POST" else None
    await refused(client, redis, 401, method, url, json=body)
    await refused(
        client,
        redis,
        401,
        method,
        url,
        json=body,
        headers={"Authorization": "Bearer wrong-admin-token-123456"},
    )


async def test_403_token_of_another_execution(
    client: httpx.AsyncClient, redis: Redis, running: str
) -> None:
    answer = await refused(
        client, redis, 403, "POST", HEARTBEAT, json=beat(running), headers=bearer("exec-b")
    )
    assert running in answer.json()["detail"]
    await refused(
        client,
        redis,
        403,
        "POST",
        COMPLETION,
        headers=bearer("exec-b"),
        json={"execution_id": running, "success": True},
    )


async def test_403_execution_token_on_admin_endpoint_and_admin_token_on_a_write(
    client: httpx.AsyncClient, redis: Redis, running: str
) -> None:
    await refused(
        client, redis, 403, "POST", f"{REGISTER}/{running}/cancel", headers=bearer(running)
    )
    await refused(
        client,
        redis,
        403,
        "GET",
        f"/api/v1/task/execution/{running}/status",
        headers=bearer(running),
    )
    await refused(client, redis, 403, "POST", HEARTBEAT, json=beat(running), headers=ADMIN)


async def test_404_unknown_execution(client: httpx.AsyncClient, redis: Redis, running: str) -> None:
    answer = await refused(
        client, redis, 404, "POST", HEARTBEAT, json=beat("ghost"), headers=bearer("ghost")
    )
    assert "ghost" in answer.json()["detail"] and "register" in answer.json()["detail"]
    await refused(
        client,
        redis,
        404,
        "POST",
        COMPLETION,
        headers=bearer("ghost"),
        json={"execution_id": "ghost", "success": True},
    )
    for url in ("/api/v1/task/execution/ghost/status", "/api/v1/monitoring/heartbeat/ghost"):
        await refused(client, redis, 404, "GET", url, headers=ADMIN)
    await refused(client, redis, 404, "POST", f"{REGISTER}/ghost/cancel", headers=ADMIN)


async def test_409_writes_that_contradict_a_final_state(
    client: httpx.AsyncClient, redis: Redis, running: str
) -> None:
    done = {"execution_id": running, "success": True, "result_data": {"rows": 3}}
    assert (await client.post(COMPLETION, json=done, headers=bearer(running))).status_code == 200

    answer = await refused(
        client, redis, 409, "POST", HEARTBEAT, json=beat(running), headers=bearer(running)
    )
    assert answer.json()["status"] == "completed"
    different = {**done, "result_data": {"rows": 4}}
    await refused(client, redis, 409, "POST", COMPLETION, json=different, headers=bearer(running))
    failed = {"execution_id": running, "success": False, "error_message": "boom"}
    await refused(client, redis, 409, "POST", COMPLETION, json=failed, headers=bearer(running))
    await refused(client, redis, 409, "POST", f"{REGISTER}/{running}/cancel", headers=ADMIN)
    await refused(
        client, redis, 409, "POST", REGISTER, json={"execution_id": running}, headers=ADMIN
    )


async def test_identical_completion_repeated_is_accepted_and_changes_nothing(
    client: httpx.AsyncClient, redis: Redis, running: str
) -> None:
    done = {"execution_id": running, "success": True, "result_data": {"b": 1, "a": [1, 2]}}
    assert (await client.post(COMPLETION, json=done, headers=bearer(running))).status_code == 200
    reordered = {"execution_id": running, "success": True, "result_data": {"a": [1, 2], "b": 1}}
    answer = await refused(
        client, redis, 200, "POST", COMPLETION, json=reordered, headers=bearer(running)
    )
    assert answer.json()["execution_status"] == "completed"


async def test_413_body_over_the_limit(
    client: httpx.AsyncClient, redis: Redis, running: str
) -> None:
    huge = beat(running, progress={"blob": "x" * 40_000})  # limit in this app: 32768 bytes
    answer = await refused(
        client, redis, 413, "POST", HEARTBEAT, json=huge, headers=bearer(running)
    )
    assert "32768" in answer.json()["detail"]


async def test_413_streamed_body_without_content_length(
    client: httpx.AsyncClient, redis: Redis, running: str
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"execution_id": "exec-a", "progress": {"blob": "'
        for _ in range(40):
            yield b"y" * 1000
        yield b'"}}'

    before = await snapshot(redis)
    answer = await client.post(HEARTBEAT, content=chunks(), headers=bearer(running))
    assert answer.status_code == 413
    assert await snapshot(redis) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"progress": [1, 2]}, "progress"),
        ({"progress": {"blob": "z" * 6000, "more": "z" * 6000, "x": "z" * 6000}}, "progress"),
        ({"status": ""}, "status"),
        ({"status": "s" * 65}, "status"),
        ({"timestamp": -1}, "timestamp"),
        ({"execution_id": "bad id/with spaces"}, "execution_id"),
    ],
    ids=[
        "progress-not-object",
        "progress-too-big",
        "empty-status",
        "long-status",
        "negative-timestamp",
        "bad-id",
    ],
)
async def test_422_heartbeat_names_the_field(
    client: httpx.AsyncClient, redis: Redis, running: str, body: dict[str, Any], field: str
) -> None:
    sent = {**beat(running), **body}
    answer = await refused(
        client, redis, 422, "POST", HEARTBEAT, json=sent, headers=bearer(sent["execution_id"])
    )
    assert [e["loc"] for e in answer.json()["detail"]] == [["body", field]]


async def test_422_other_bodies_name_the_field(
    client: httpx.AsyncClient, redis: Redis, running: str
) -> None:
    contradiction = {"execution_id": running, "success": True, "status": "failed"}
    answer = await refused(
        client, redis, 422, "POST", COMPLETION, json=contradiction, headers=bearer(running)
    )
    assert answer.json()["detail"][0]["loc"] == ["body", "status"]
    answer = await refused(
        client,
        redis,
        422,
        "POST",
        COMPLETION,
        headers=bearer(running),
        json={"execution_id": running},
    )
    assert answer.json()["detail"][0]["loc"] == ["body", "success"]
    answer = await refused(
        client,
        redis,
        422,
        "POST",
        REGISTER,
        headers=ADMIN,
        json={"execution_id": "x1", "dag": "typo"},
    )
    assert answer.json()["detail"][0]["loc"] == ["body", "dag"]
    answer = await refused(
        client,
        redis,
        422,
        "POST",
        HEARTBEAT,
        headers=bearer(running),
        content=b'{"execution_id": "exec-a", ',
    )
    assert answer.json()["detail"][0]["type"] == "json_invalid"
