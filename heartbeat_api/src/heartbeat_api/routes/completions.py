"""Completion: the container's final report, written once (an identical repeat is fine)."""

from __future__ import annotations

from fastapi import APIRouter
from heartbeat_contract import http

from heartbeat_api import metrics
from heartbeat_api.deps import BearerDep, SettingsDep, StoreDep, authorize_execution
from heartbeat_api.schemas import CompletionIn, CompletionOut

router = APIRouter(prefix=http.MONITORING_PREFIX, tags=["completions"])


@router.post(http.relative(http.COMPLETION, http.MONITORING_PREFIX), response_model=CompletionOut)
async def post_completion(
    completion: CompletionIn, token: BearerDep, settings: SettingsDep, store: StoreDep
) -> CompletionOut:
    """Sets the final state: completed, failed or cancelled (409 if another is set)."""
    authorize_execution(settings, token, completion.execution_id)
    execution = await store.record_completion(
        completion.execution_id,
        container_name=completion.container_name,
        status=completion.final_status,
        result_data=completion.result_data,
        error_message=completion.error_message,
    )
    metrics.COMPLETIONS.labels(execution.status).inc()
    return CompletionOut(execution_id=execution.execution_id, execution_status=execution.status)
