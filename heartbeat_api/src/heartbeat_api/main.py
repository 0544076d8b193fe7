"""The app factory: ``create_app(settings=None)``; uvicorn runs it with ``factory=True``."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exception_handlers import request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from heartbeat_store import ExecutionStore
from heartbeat_store.errors import ExecutionExists, FinalStateConflict, UnknownExecution
from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from heartbeat_api import metrics
from heartbeat_api.guard import RequestGuard
from heartbeat_api.logs import configure_logging
from heartbeat_api.problems import redis_location, redis_unavailable
from heartbeat_api.routes import completions, executions, health, heartbeats
from heartbeat_api.settings import Settings, load_settings
from heartbeat_api.ui import router as live_view_router

logger = logging.getLogger("heartbeat_api")
Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def redis_client(settings: Settings) -> Redis:
    """A client that fails fast (503) while Redis is down and reconnects when it is back."""
    return Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=settings.redis_connect_timeout,
        socket_timeout=settings.redis_timeout,
        # One immediate retry: after a Redis restart a pooled connection is stale once.
        retry=Retry(NoBackoff(), 1),
    )


def create_app(settings: Settings | None = None, *, freeze_gc: bool | None = None) -> FastAPI:
    """The app. ``settings`` default to the environment; ``freeze_gc`` (default: only when
    settings come from the environment, i.e. a served process, not a test) moves the
    objects alive at startup out of the cyclic GC's reach."""
    if freeze_gc is None:
        freeze_gc = settings is None
    settings = settings or load_settings()
    configure_logging(settings.log_level)
    location = redis_location(settings.redis_url)
    app = FastAPI(
        title="Heartbeat API",
        summary="Heartbeats, progress and completion of containerised data-collection tasks.",
        version="1.0.0",
        lifespan=_lifespan(settings, location, freeze_gc),
        # Containers built on urllib may omit Content-Type; the body is JSON either way.
        strict_content_type=False,
    )
    app.state.settings = settings
    for router in (heartbeats.router, completions.router, executions.router, health.router):
        app.include_router(router)
    app.include_router(live_view_router)
    app.add_middleware(RequestGuard, max_body_bytes=settings.max_body_bytes)
    _add_error_handlers(app, location)
    return app


def _lifespan(settings: Settings, location: str, freeze_gc: bool) -> Lifespan:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        redis = redis_client(settings)
        app.state.redis = redis
        app.state.redis_location = location
        app.state.store = ExecutionStore(
            redis,
            retention_seconds=settings.retention_seconds,
            stream_maxlen=settings.stream_maxlen,
            global_stream_maxlen=settings.global_stream_maxlen,
        )
        # Everything imported so far lives as long as the process: keep it out of the
        # cyclic GC, whose full passes over FastAPI's and pydantic's objects were
        # showing up as latency spikes on the heartbeat path.
        if freeze_gc:
            gc.collect()
            gc.freeze()
        logger.info("started", extra={"event": "started", "redis": location})
        sweeper = asyncio.ensure_future(_sweep(app.state.store, settings.sweep_interval))
        try:
            yield
        finally:
            sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sweeper
            await redis.aclose()

    return lifespan


async def _sweep(store: ExecutionStore, interval: float) -> None:
    """Declare lost, every ``interval`` seconds, the executions that never started."""
    while True:
        await asyncio.sleep(interval)
        try:
            for execution in await store.expire_unstarted():
                logger.info("never started", extra={
                    "event": "never_started", "execution_id": execution.execution_id})
        except (RedisError, OSError) as exc:  # Redis down: the next sweep tries again
            logger.warning("sweep failed: %s", exc)


def _add_error_handlers(app: FastAPI, location: str) -> None:
    """Each store error is one HTTP status; nothing a client sends becomes a 500."""

    @app.exception_handler(UnknownExecution)
    async def unknown(request: Request, exc: UnknownExecution) -> Response:
        metrics.reject("unknown_execution")
        return JSONResponse({"detail": str(exc)}, 404)

    @app.exception_handler(ExecutionExists)
    async def exists(request: Request, exc: ExecutionExists) -> Response:
        metrics.reject("exists")
        return JSONResponse({"detail": str(exc)}, 409)

    @app.exception_handler(FinalStateConflict)
    async def final_state(request: Request, exc: FinalStateConflict) -> Response:
        metrics.reject("final_state")
        return JSONResponse({"detail": str(exc), "status": exc.current_status}, 409)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        metrics.reject("invalid")
        return await request_validation_exception_handler(request, exc)

    @app.exception_handler(RedisError)
    async def redis_down(request: Request, exc: RedisError) -> Response:
        body = redis_unavailable(location, exc, request.url.path)
        return JSONResponse(body, 503, headers={"Retry-After": "1"})
