"""Dependencies, as ``Annotated`` aliases so routes read like prose.

Every dependency is ``async def``: FastAPI runs a plain ``def`` in a thread pool, which
costs more than the whole Redis write of a heartbeat.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request
from heartbeat_store import ExecutionStore
from redis.asyncio import Redis

from heartbeat_api import metrics
from heartbeat_api.auth import (
    bearer_token,
    execution_token,
    looks_like_execution_token,
    token_matches,
)
from heartbeat_api.settings import Settings


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_redis(request: Request) -> Redis:
    redis: Redis = request.app.state.redis
    return redis


async def get_store(request: Request) -> ExecutionStore:
    store: ExecutionStore = request.app.state.store
    return store


SettingsDep = Annotated[Settings, Depends(get_settings)]
RedisDep = Annotated[Redis, Depends(get_redis)]
StoreDep = Annotated[ExecutionStore, Depends(get_store)]
AuthorizationHeader = Annotated[str | None, Header(include_in_schema=False)]


def unauthorized(message: str) -> HTTPException:
    metrics.reject("unauthorized")
    return HTTPException(401, message, headers={"WWW-Authenticate": "Bearer"})


def forbidden(message: str) -> HTTPException:
    metrics.reject("forbidden")
    return HTTPException(403, message)


async def require_admin(
    request: Request, settings: SettingsDep, authorization: AuthorizationHeader = None
) -> None:
    """Admin token required; an execution token here is refused with 403."""
    token = bearer_token(authorization)
    if token is None:
        raise unauthorized("send the admin token as 'Authorization: Bearer <token>'")
    if token_matches(settings.admin_token.get_secret_value(), token):
        return
    execution_id = request.path_params.get("execution_id")
    secret = settings.secret.get_secret_value()
    if execution_id and token_matches(execution_token(secret, execution_id), token):
        raise forbidden(
            f"an execution token cannot read or cancel execution {execution_id!r}; "
            "use the admin token"
        )
    raise unauthorized("the bearer token is not the admin token")


async def require_bearer(authorization: AuthorizationHeader = None) -> str:
    """The presented execution token; checked against the body's execution_id by the route."""
    token = bearer_token(authorization)
    if token is None:
        raise unauthorized("send the execution's token as 'Authorization: Bearer <token>'")
    return token


AdminDep = Depends(require_admin)
BearerDep = Annotated[str, Depends(require_bearer)]


def authorize_execution(settings: Settings, token: str, execution_id: str) -> None:
    """401 for a token that is no execution token, 403 for one of another execution."""
    secret = settings.secret.get_secret_value()
    if token_matches(execution_token(secret, execution_id), token):
        return
    if token_matches(settings.admin_token.get_secret_value(), token):
        raise forbidden("the admin token cannot write an execution; use the execution's token")
    if looks_like_execution_token(token):
        # A signed token proves only the id it was signed for, and this is not it.
        raise forbidden(
            f"this token is not for execution {execution_id!r}; "
            "a container may write only its own execution (HEARTBEAT_TOKEN)"
        )
    raise unauthorized(f"the bearer token is not valid for execution {execution_id!r}")
