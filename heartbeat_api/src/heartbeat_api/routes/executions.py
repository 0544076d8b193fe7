"""Executions: registration, cancel, status and the list; admin token only."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from heartbeat_contract import http

from heartbeat_api import metrics
from heartbeat_api.auth import execution_token
from heartbeat_api.deps import AdminDep, SettingsDep, StoreDep
from heartbeat_api.schemas import ExecutionListOut, ExecutionOut, RegistrationIn, RegistrationOut

router = APIRouter(prefix=http.API_PREFIX, tags=["executions"], dependencies=[AdminDep])


def _route(full: str) -> str:
    return http.relative(full, http.API_PREFIX)


@router.post(_route(http.EXECUTIONS), status_code=201, response_model=RegistrationOut)
async def register_execution(
    registration: RegistrationIn, settings: SettingsDep, store: StoreDep
) -> RegistrationOut:
    """Registers an execution (state pending) and returns the token its container writes with."""
    execution_id = registration.execution_id or str(uuid.uuid4())
    execution = await store.register(
        execution_id,
        dag_id=registration.dag_id,
        task_id=registration.task_id,
        run_id=registration.run_id,
        container_name=registration.container_name,
        host=registration.host,
        task_type=registration.task_type,
        start_timeout=registration.start_timeout,
    )
    return RegistrationOut(
        execution_id=execution_id,
        token=execution_token(settings.secret.get_secret_value(), execution_id),
        status=execution.status,
    )


@router.post(_route(http.EXECUTION_CANCEL), response_model=ExecutionOut)
async def cancel_execution(execution_id: str, store: StoreDep) -> ExecutionOut:
    """Requests a graceful stop: the next heartbeat answers cancel_requested=true."""
    return ExecutionOut.of(await store.request_cancel(execution_id))


@router.get(_route(http.EXECUTIONS), response_model=ExecutionListOut)
async def list_executions(
    store: StoreDep, limit: Annotated[int, Query(ge=1, le=1000)] = 200
) -> ExecutionListOut:
    """The most recently updated executions, newest first."""
    executions = await store.list_executions(limit)
    return ExecutionListOut(executions=[ExecutionOut.of(e) for e in executions])


@router.get(_route(http.EXECUTION_STATUS), response_model=ExecutionOut)
async def execution_status(execution_id: str, store: StoreDep) -> ExecutionOut:
    """State, progress, times, result and error of one execution."""
    execution = await store.get(execution_id)
    if execution is None:
        metrics.reject("unknown_execution")
        raise HTTPException(404, f"execution {execution_id!r} is not registered (or expired)")
    return ExecutionOut.of(execution)
