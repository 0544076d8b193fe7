"""Heartbeats: written by a container with its execution token, read by the admin.

``POST /heartbeat`` is the hot path (every container, every few seconds), so it reads
the request itself instead of through FastAPI's dependency solver, which cost more
than the Redis write; the body model is still ``HeartbeatIn`` and is documented as such.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from heartbeat_api import metrics
from heartbeat_api.auth import bearer_token
from heartbeat_api.deps import AdminDep, StoreDep, authorize_execution, unauthorized
from heartbeat_api.schemas import EventOut, HeartbeatHistoryOut, HeartbeatIn, HeartbeatOut
from heartbeat_api.settings import Settings
from heartbeat_api.store import ExecutionStore

router = APIRouter(prefix="/api/v1/monitoring", tags=["heartbeats"])

_ANSWERS = {
    flag: HeartbeatOut(cancel_requested=flag).model_dump_json().encode() for flag in (False, True)
}
_REQUEST_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": HeartbeatIn.model_json_schema()}},
    }
}


@router.post("/heartbeat", response_model=HeartbeatOut, openapi_extra=_REQUEST_BODY)
async def post_heartbeat(request: Request) -> Response:
    """Records a beat (body: HeartbeatIn); the answer says whether a stop was requested."""
    token = bearer_token(request.headers.get("authorization"))
    if token is None:
        raise unauthorized("send the execution's token as 'Authorization: Bearer <token>'")
    try:
        beat = HeartbeatIn.model_validate_json(await request.body())
    except ValidationError as exc:
        raise RequestValidationError(
            [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        ) from None
    settings: Settings = request.app.state.settings
    store: ExecutionStore = request.app.state.store
    authorize_execution(settings, token, beat.execution_id)
    cancel_requested = await store.record_heartbeat(
        beat.execution_id,
        container_name=beat.container_name,
        status=beat.status,
        progress=beat.progress,
        timestamp=beat.timestamp,
    )
    metrics.HEARTBEATS.inc()
    return Response(_ANSWERS[cancel_requested], media_type="application/json")


@router.get(
    "/heartbeat/{execution_id}", response_model=HeartbeatHistoryOut, dependencies=[AdminDep]
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
