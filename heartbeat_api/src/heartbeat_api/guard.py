"""Pure ASGI middleware: the body size cap (413) and the request latency histogram.

Pure ASGI rather than BaseHTTPMiddleware: it sits on the hot path of every heartbeat.
"""

from __future__ import annotations

from time import perf_counter

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from heartbeat_api import metrics

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
        try:
            if scope["method"] in _METHODS_WITH_BODY:
                await self._with_bounded_body(scope, receive, send)
            else:
                await self.app(scope, receive, send)
        finally:
            route = scope.get("route")
            label = getattr(route, "path", None) or "unmatched"
            metrics.REQUEST_SECONDS.labels(scope["method"], label).observe(perf_counter() - started)

    async def _with_bounded_body(self, scope: Scope, receive: Receive, send: Send) -> None:
        json_declared = False
        for name, value in scope["headers"]:
            if name == b"content-length":
                if value.isdigit() and int(value) > self.max_body_bytes:
                    await self._too_large(send)
                    return
            elif name == b"content-type":
                json_declared = value.startswith(b"application/json")
        if not json_declared:
            # Every body here is JSON; urllib and curl -d label it form-encoded by default.
            headers = [(n, v) for n, v in scope["headers"] if n != b"content-type"]
            scope["headers"] = [*headers, (b"content-type", b"application/json")]
        # Read it all first (it is small by now) and count what really arrives, since
        # Content-Length may be absent (chunked) or wrong.
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                await self._too_large(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

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
