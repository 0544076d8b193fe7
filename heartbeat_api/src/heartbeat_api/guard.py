"""Pure ASGI middleware: body size cap (413), request latency, and the heartbeat fast path.

Pure ASGI rather than BaseHTTPMiddleware: it sits on the hot path of every heartbeat.
``POST`` to the heartbeat path is answered here, before Starlette's routing and
FastAPI's request machinery, which cost more than the heartbeat's Redis write; the
FastAPI route of the same path (for /docs) runs the very same ``heartbeat_answer``.
"""

from __future__ import annotations

from time import perf_counter

import orjson
from heartbeat_contract import http
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from heartbeat_api import metrics
from heartbeat_api.routes.heartbeats import heartbeat_answer

_METHODS_WITH_BODY = frozenset({"POST", "PUT", "PATCH"})


class RequestGuard:
    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = perf_counter()
        label = "unmatched"
        try:
            if scope["method"] not in _METHODS_WITH_BODY:
                await self.app(scope, receive, send)
                return
            body = await self._bounded_body(scope, receive, send)
            if body is None:
                return
            if scope["path"] == http.HEARTBEAT and scope["method"] == "POST" and "app" in scope:
                label = http.HEARTBEAT
                await self._heartbeat(scope, body, send)
            else:
                await self.app(scope, _replay(body, receive), send)
        finally:
            route = scope.get("route")
            label = getattr(route, "path", None) or label
            metrics.REQUEST_SECONDS.labels(scope["method"], label).observe(perf_counter() - started)

    async def _heartbeat(self, scope: Scope, body: bytes, send: Send) -> None:
        authorization = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value.decode("latin-1")
                break
        status, payload, headers = await heartbeat_answer(scope["app"].state, authorization, body)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                    *[(k.lower().encode(), v.encode()) for k, v in headers.items()],
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    async def _bounded_body(self, scope: Scope, receive: Receive, send: Send) -> bytes | None:
        """The whole body, or None after answering 413 (or if the client went away)."""
        json_declared = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                if value.isdigit() and int(value) > self.max_body_bytes:
                    await self._too_large(send)
                    return None
            elif name == b"content-type":
                json_declared = value.startswith(b"application/json")
        if not json_declared:
            # Every body here is JSON; urllib and curl -d label it form-encoded by default.
            headers = [(n, v) for n, v in scope["headers"] if n != b"content-type"]
            scope["headers"] = [*headers, (b"content-type", b"application/json")]
        # Count what really arrives: Content-Length may be absent (chunked) or wrong.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return None
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await self._too_large(send)
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _too_large(self, send: Send) -> None:
        metrics.reject("too_large")
        body = orjson.dumps(
            {
                "detail": f"request body is larger than {self.max_body_bytes} bytes; "
                "send less progress or result data (HEARTBEAT_MAX_BODY_BYTES sets the limit)"
            }
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _replay(body: bytes, receive: Receive) -> Receive:
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if not delivered:
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
