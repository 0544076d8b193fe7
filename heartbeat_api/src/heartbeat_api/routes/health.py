"""Liveness with Redis reachability, and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.responses import JSONResponse
from heartbeat_contract import http

from heartbeat_api.deps import StoreDep
from heartbeat_api.metrics import render_metrics
from heartbeat_api.schemas import HealthOut

router = APIRouter(tags=["health"])


@router.get(http.HEALTH, response_model=HealthOut, responses={503: {"model": HealthOut}})
async def healthz(store: StoreDep) -> Response:
    """200 when the process and Redis answer, 503 when Redis does not."""
    if await store.ping():
        return JSONResponse(HealthOut(status="ok", redis="ok").model_dump())
    return JSONResponse(HealthOut(status="unavailable", redis="unreachable").model_dump(), 503)


@router.get(http.METRICS, response_class=Response)
async def prometheus_metrics() -> Response:
    """Heartbeats, completions, rejects by reason and request latency, Prometheus text."""
    body, content_type = render_metrics()
    return Response(body, media_type=content_type)
