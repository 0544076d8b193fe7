"""The live view's routes: pages, login, the event stream and cancel, under ``/ui``."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any
from urllib.parse import parse_qs, quote

import orjson
from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from heartbeat_contract import http
from redis.exceptions import RedisError

from heartbeat_api.deps import StoreDep
from heartbeat_api.settings import Settings
from heartbeat_api.ui import pages
from heartbeat_api.ui.access import (
    REFUSAL_MESSAGES,
    SESSION_COOKIE,
    Refusal,
    Role,
    make_session,
    request_role,
    role_for_token,
    safe_next,
    session_key,
)
from heartbeat_api.ui.feed import OVERFLOW, LiveFeed
from heartbeat_api.ui.settings import UiSettings

router = APIRouter(prefix=http.UI, include_in_schema=False)

# Sent by the page's own scripts: a cross-site form cannot set it, so a cookie alone
# cannot cancel anything.
CSRF_HEADER = "x-live-view"
TimeoutParam = Annotated[float | None, Query(gt=0, le=86400)]


def ui_settings(request: Request) -> UiSettings:
    found: UiSettings | None = getattr(request.app.state, "ui_settings", None)
    if found is None:
        found = request.app.state.ui_settings = UiSettings()
    return found


def live_feed(request: Request) -> LiveFeed:
    found: LiveFeed | None = getattr(request.app.state, "live_feed", None)
    if found is None:
        found = request.app.state.live_feed = LiveFeed(request.app.state.settings)
    return found


UiSettingsDep = Annotated[UiSettings, Depends(ui_settings)]


def caller_role(request: Request) -> Role | Refusal:
    settings: Settings = request.app.state.settings
    ui = ui_settings(request)
    admin = settings.admin_token.get_secret_value()
    return request_role(
        request.headers.get("authorization"),
        request.cookies.get(SESSION_COOKIE),
        admin_token=admin,
        viewer_token=ui.viewer_token.get_secret_value() if ui.viewer_token else None,
        key=session_key(settings.secret.get_secret_value(), admin),
        now=time.time(),
    )


def require_role(request: Request) -> Role:
    """For the stream and the JSON routes: 401 without a login, 403 for an execution token."""
    role = caller_role(request)
    if isinstance(role, Role):
        return role
    status = 403 if role is Refusal.EXECUTION_TOKEN else 401
    raise HTTPException(status, REFUSAL_MESSAGES[role], headers={"WWW-Authenticate": "Bearer"})


RoleDep = Annotated[Role, Depends(require_role)]


def _page_or_refusal(request: Request) -> Role | Response:
    role = caller_role(request)
    if isinstance(role, Role):
        return role
    if role is Refusal.EXECUTION_TOKEN:
        return pages.refusal(REFUSAL_MESSAGES[role], 403)
    if request.headers.get("authorization"):
        return pages.refusal(REFUSAL_MESSAGES[role], 401)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/ui/login?next={quote(target, safe='')}", 303)


# -- pages ---------------------------------------------------------------------------
@router.get("", response_class=HTMLResponse)
async def list_page(request: Request, ui: UiSettingsDep, timeout: TimeoutParam = None) -> Response:
    role = _page_or_refusal(request)
    if isinstance(role, Response):
        return role
    return pages.list_page(role=role, timeout=timeout or ui.heartbeat_timeout)


@router.get("/executions/{execution_id}", response_class=HTMLResponse)
async def detail_page(
    request: Request, execution_id: str, ui: UiSettingsDep, timeout: TimeoutParam = None
) -> Response:
    role = _page_or_refusal(request)
    if isinstance(role, Response):
        return role
    return pages.detail_page(
        role=role, timeout=timeout or ui.heartbeat_timeout, execution_id=execution_id
    )


@router.get("/login", response_class=HTMLResponse)
async def login_form(next: str | None = None) -> Response:
    return pages.login_page(next_path=safe_next(next))


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, ui: UiSettingsDep) -> Response:
    # Read by hand: the request guard labels every body JSON, and this one is a form.
    form = parse_qs((await request.body()).decode(errors="replace"))
    token = (form.get("token") or [""])[0].strip()
    next_path = safe_next(form.get("next", [""])[0])
    settings: Settings = request.app.state.settings
    admin = settings.admin_token.get_secret_value()
    role = role_for_token(
        token,
        admin_token=admin,
        viewer_token=ui.viewer_token.get_secret_value() if ui.viewer_token else None,
    )
    if not isinstance(role, Role):
        status = 403 if role is Refusal.EXECUTION_TOKEN else 401
        return pages.login_page(next_path=next_path, error=REFUSAL_MESSAGES[role], status=status)
    max_age = int(ui.session_hours * 3600)
    cookie = make_session(
        session_key(settings.secret.get_secret_value(), admin), role, int(time.time()) + max_age
    )
    response = RedirectResponse(next_path, 303)
    response.set_cookie(
        SESSION_COOKIE,
        cookie,
        max_age=max_age,
        path="/ui",
        httponly=True,
        samesite="lax",
        secure=ui.secure_cookie,
    )
    return response


@router.post("/logout")
async def logout() -> Response:
    response = RedirectResponse("/ui/login", 303)
    response.delete_cookie(SESSION_COOKIE, path="/ui")
    return response


@router.get("/static/{name}")
async def static_file(name: str) -> Response:
    found = pages.static(name)
    if found is None:
        raise HTTPException(404, f"no static file {name!r}")
    body, media_type = found
    return Response(body, media_type=media_type, headers={"Cache-Control": "max-age=300"})


# -- live data -----------------------------------------------------------------------
def _sse(message: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(message) + b"\n\n"


@router.get("/events")
async def events(
    request: Request, role: RoleDep, ui: UiSettingsDep, execution_id: str | None = None
) -> StreamingResponse:
    """Server-sent events: a snapshot, then one message per event of the global stream."""
    feed = live_feed(request)

    async def stream() -> AsyncIterator[bytes]:
        yield b"retry: 2000\n\n"
        try:
            async with feed.subscribe() as queue:
                if execution_id is None:
                    snapshot = await feed.list_snapshot(ui.list_limit)
                else:
                    snapshot = await feed.detail_snapshot(execution_id, ui.history_count)
                yield _sse(snapshot)
                loop = asyncio.get_running_loop()
                ends_at = loop.time() + ui.stream_seconds
                while (left := ends_at - loop.time()) > 0:
                    try:
                        message = await asyncio.wait_for(
                            queue.get(), min(ui.keepalive_seconds, left)
                        )
                    except TimeoutError:
                        yield _sse({"kind": "ping", "now": feed.now()})
                        continue
                    if message is OVERFLOW:
                        return
                    if execution_id is None or message.get("execution_id") in (None, execution_id):
                        yield _sse(message)
        except (RedisError, OSError):
            yield _sse({"kind": "offline", "now": time.time()})

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.post("/api/executions/{execution_id}/cancel")
async def cancel(request: Request, execution_id: str, role: RoleDep, store: StoreDep) -> Response:
    """Asks the execution to stop gracefully: its next heartbeat answers cancel_requested."""
    if role is not Role.ADMIN:
        raise HTTPException(403, "only the admin may cancel an execution; log in as admin")
    if request.headers.get(CSRF_HEADER) != "1":
        raise HTTPException(403, f"send the {CSRF_HEADER!r} header (the page's button does)")
    execution = await store.request_cancel(execution_id)
    return Response(
        orjson.dumps(
            {
                "execution_id": execution_id,
                "status": execution.status,
                "cancel_requested": execution.cancel_requested,
            }
        ),
        media_type="application/json",
    )
