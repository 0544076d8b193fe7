"""Metrics (merged over both workers) and structured logs of the real server."""

from __future__ import annotations

import json

import httpx
import pytest
from hbapi_helpers import ApiServer
from heartbeat_api.auth import execution_token
from prometheus_client.parser import text_string_to_metric_families
from redis.asyncio import Redis

pytestmark = pytest.mark.integration


def samples(base_url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(f"{base_url}/metrics").text
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def delta(before: dict, after: dict, name: str, **labels: str) -> float:  # type: ignore[type-arg]
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


async def test_metrics_count_heartbeats_completions_rejects_and_latency(
    api_server: ApiServer, redis: Redis
) -> None:
    before = samples(api_server.base_url)
    writer = {"Authorization": f"Bearer {execution_token(api_server.secret, 'm-1')}"}
    async with httpx.AsyncClient(base_url=api_server.base_url) as http:
        await http.post(
            "/api/v1/monitoring/executions",
            json={"execution_id": "m-1"},
            headers=api_server.admin_headers,
        )
        for n in range(5):  # several connections' worth: both workers may serve them
            answer = await http.post(
                "/api/v1/monitoring/heartbeat",
                headers=writer,
                json={"execution_id": "m-1", "progress": {"n": n}},
            )
            assert answer.status_code == 200
        await http.post("/api/v1/monitoring/heartbeat", json={"execution_id": "m-1"})
        await http.post(
            "/api/v1/monitoring/heartbeat",
            headers=writer,
            json={"execution_id": "m-1", "progress": "no"},
        )
        await http.post(
            "/api/v1/monitoring/completion",
            headers=writer,
            json={"execution_id": "m-1", "success": True},
        )
        await http.post(
            "/api/v1/monitoring/heartbeat", headers=writer, json={"execution_id": "m-1"}
        )
    after = samples(api_server.base_url)

    assert delta(before, after, "heartbeat_api_heartbeats_total") == 5
    assert delta(before, after, "heartbeat_api_completions_total", status="completed") == 1
    for reason in ("unauthorized", "invalid", "final_state"):
        assert delta(before, after, "heartbeat_api_rejects_total", reason=reason) == 1
    count = delta(
        before,
        after,
        "heartbeat_api_request_duration_seconds_count",
        method="POST",
        route="/api/v1/monitoring/heartbeat",
    )
    assert count == 8


async def test_every_state_change_is_one_json_log_line_without_tokens(
    api_server: ApiServer, redis: Redis
) -> None:
    token = execution_token(api_server.secret, "log-1")
    writer = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=api_server.base_url) as http:
        await http.post(
            "/api/v1/monitoring/executions",
            json={"execution_id": "log-1"},
            headers=api_server.admin_headers,
        )
        await http.post(
            "/api/v1/monitoring/heartbeat", headers=writer, json={"execution_id": "log-1"}
        )
        await http.post(
            "/api/v1/monitoring/completion",
            headers=writer,
            json={
                "execution_id": "log-1",
                "success": False,
                "error_message": "ValueError: bad page",
            },
        )
    lines = [
        json.loads(line) for line in api_server.log_text().splitlines() if line.startswith("{")
    ]
    changes = [
        (line["from"], line["to"], line["reason"])
        for line in lines
        if line.get("event") == "state_change" and line.get("execution_id") == "log-1"
    ]
    assert changes == [
        (None, "pending", "registered"),
        ("pending", "running", "first heartbeat"),
        ("running", "failed", "completion"),
    ]
    failed = [
        line for line in lines if line.get("to") == "failed" and line.get("execution_id") == "log-1"
    ][0]
    assert failed["error"] == "ValueError: bad page" and failed["level"] == "info"
    log = api_server.log_text()
    assert token not in log and api_server.secret not in log
    assert api_server.admin_token not in log
