"""Heartbeats: written by a container with its execution token, read by the admin."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query

from heartbeat_api import metrics
from heartbeat_api.deps import AdminDep, BearerDep, SettingsDep, StoreDep, authorize_execution
from heartbeat_api.schemas import EventOut, HeartbeatHistoryOut, HeartbeatIn, HeartbeatOut

router = APIRouter(prefix="/api/v1/monitoring", tags=["heartbeats"])


@router.post("/heartbeat", response_model=HeartbeatOut)
async def post_heartbeat(
    beat: HeartbeatIn, token: BearerDep, settings: SettingsDep, store: StoreDep
) -> HeartbeatOut:
    """Records a beat; the answer says whether a graceful stop was requested."""
    authorize_execution(settings, token, beat.execution_id)
    cancel_requested = await store.record_heartbeat(
        beat.execution_id,
        container_name=beat.container_name,
        status=beat.status,
        progress=beat.progress,
        timestamp=beat.timestamp,
    )
    metrics.HEARTBEATS.inc()
    return HeartbeatOut(cancel_requested=cancel_requested)


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
