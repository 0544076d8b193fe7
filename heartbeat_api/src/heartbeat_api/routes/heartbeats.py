"""Heartbeats: written by a container with its execution token, read by the admin.

``POST /heartbeat`` is the hot path (every container, every few seconds): the guard
middleware answers it with ``heartbeat_answer`` directly, without FastAPI's request
machinery; the body model is still ``HeartbeatIn`` and is documented as such.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from heartbeat_contract import http
from heartbeat_store import ExecutionStore
from heartbeat_store.errors import FinalStateConflict, UnknownExecution
from pydantic import ValidationError
from redis.exceptions import RedisError

from heartbeat_api import metrics
from heartbeat_api.auth import bearer_token
from heartbeat_api.deps import AdminDep, StoreDep, authorize_execution, unauthorized
from heartbeat_api.problems import json_bytes, redis_unavailable
from heartbeat_api.schemas import EventOut, HeartbeatHistoryOut, HeartbeatIn, HeartbeatOut
from heartbeat_api.settings import Settings

router = APIRouter(prefix=http.MONITORING_PREFIX, tags=["heartbeats"])

_ANSWERS = {
    flag: HeartbeatOut(cancel_requested=flag).model_dump_json().encode() for flag in (False, True)
}
_REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": HeartbeatIn.model_json_schema()}},
    }
}
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"description": text}
    for code, text in {
        401: "no or bad token",
        403: "a token for another execution",
        404: "unknown execution",
        409: "the execution is already final",
        413: "body too large",
        503: "Redis unreachable",
    }.items()
}


async def heartbeat_answer(
    state: Any, authorization: str | None, body: bytes
) -> tuple[int, bytes, dict[str, str]]:
    """The whole heartbeat: auth, validation, the Redis write; (status, JSON, headers)."""
    settings: Settings = state.settings
    store: ExecutionStore = state.store
    try:
        token = bearer_token(authorization)
        if token is None:
            raise unauthorized("send the execution's token as 'Authorization: Bearer <token>'")
        try:
            beat = HeartbeatIn.model_validate_json(body)
        except ValidationError as exc:
            metrics.reject("invalid")
            errors = [
                {**error, "loc": ["body", *error["loc"]]} for error in exc.errors(include_url=False)
            ]
            return 422, json_bytes({"detail": errors}), {}
        authorize_execution(settings, token, beat.execution_id)
        cancel_requested = await store.record_heartbeat(
            beat.execution_id,
            container_name=beat.container_name,
            status=beat.status,
            progress=beat.progress,
            timestamp=beat.timestamp,
        )
    except HTTPException as exc:
        return exc.status_code, json_bytes({"detail": exc.detail}), dict(exc.headers or {})
    except UnknownExecution as exc:
        metrics.reject("unknown_execution")
        return 404, json_bytes({"detail": str(exc)}), {}
    except FinalStateConflict as exc:
        metrics.reject("final_state")
        return 409, json_bytes({"detail": str(exc), "status": exc.current_status}), {}
    except RedisError as exc:
        answer = redis_unavailable(state.redis_location, exc, http.HEARTBEAT)
        return 503, json_bytes(answer), {"Retry-After": "1"}
    metrics.HEARTBEATS.inc()
    return 200, _ANSWERS[cancel_requested], {}


@router.post(
    http.relative(http.HEARTBEAT, http.MONITORING_PREFIX),
    response_model=HeartbeatOut,
    openapi_extra=_REQUEST_BODY,
    responses=_ERRORS,
)
async def post_heartbeat(request: Request) -> Response:
    """Records a beat (body: HeartbeatIn); the answer says whether a stop was requested.

    Served by the fast path in ``guard.py``; this route documents it and gives the same
    answers if reached directly.
    """
    status, payload, headers = await heartbeat_answer(
        request.app.state, request.headers.get("authorization"), await request.body()
    )
    return Response(payload, status, headers, media_type="application/json")


@router.get(
    http.relative(http.HEARTBEAT_HISTORY, http.MONITORING_PREFIX),
    response_model=HeartbeatHistoryOut,
    dependencies=[AdminDep],
)
async def get_heartbeats(
    execution_id: str,
    store: StoreDep,
    count: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> HeartbeatHistoryOut:
    """The last heartbeat and the recent heartbeat log (newest last)."""
    execution = await store.get(execution_id)
    if execution is None:
        metrics.reject("unknown_execution")
        raise HTTPException(404, f"execution {execution_id!r} is not registered (or expired)")
    events = await store.history(execution_id, count)
    return HeartbeatHistoryOut(
        execution_id=execution_id,
        status=execution.status,
        last_heartbeat_at=execution.last_heartbeat_at,
        container_status=execution.container_status,
        progress=execution.progress,
        cancel_requested=execution.cancel_requested,
        history=[EventOut.of(event) for event in events],
    )
