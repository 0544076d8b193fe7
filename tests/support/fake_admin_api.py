"""A stdlib HTTP server standing in for the heartbeat API's ``/healthz`` and its
admin-only listing, for unit tests of the connection's Test button."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from heartbeat_contract import http


@dataclass
class FakeAdminApi:
    """Answers as the API would with ``admin_token`` and Redis ``redis_ok``; a path in
    ``broken`` answers ``broken_status`` instead. Records every request's path."""

    admin_token: str
    redis_ok: bool = True
    execution_token: str | None = None
    broken: set[str] = field(default_factory=set)
    broken_status: int = 404
    paths: list[str] = field(default_factory=list)
    base_url: str = ""

    def answer(self, path: str, authorization: str | None) -> tuple[int, dict[str, Any]]:
        self.paths.append(path)
        route = urlsplit(path).path
        if route in self.broken:
            return self.broken_status, {"detail": "Not Found"}
        if route == http.HEALTH:
            if self.redis_ok:
                return 200, {"status": "ok", "redis": "ok"}
            return 503, {"status": "unavailable", "redis": "unreachable"}
        if route != http.EXECUTIONS:
            return 404, {"detail": "Not Found"}
        if authorization == f"Bearer {self.admin_token}":
            return (200, {"executions": []}) if self.redis_ok else (503, {"detail": "Redis"})
        if self.execution_token and authorization == f"Bearer {self.execution_token}":
            return 403, {"detail": "an execution token cannot list executions"}
        return 401, {"detail": "the bearer token is not the admin token"}


@contextmanager
def running(api: FakeAdminApi) -> Iterator[FakeAdminApi]:
    """Serves ``api`` on a free 127.0.0.1 port (``api.base_url``) for the block."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            status, body = api.answer(self.path, self.headers.get("Authorization"))
            payload = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    api.base_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
