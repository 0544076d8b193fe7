"""A heartbeat API stand-in for the heartbeat_client unit tests: answers 200 to every
POST and records it."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from heartbeat_contract import http as api_paths


@dataclass(frozen=True)
class Posted:
    path: str
    body: dict[str, Any]


class RecordingApi:
    """Records every POST and answers ``{"status": "ok", "cancel_requested": false}``."""

    def __init__(self) -> None:
        self.posted: list[Posted] = []
        self._lock = threading.Lock()
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with api._lock:
                    api.posted.append(Posted(self.path, json.loads(raw)))
                payload = b'{"status":"ok","cancel_requested":false}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()

    def bodies(self, path: str) -> list[dict[str, Any]]:
        with self._lock:
            return [p.body for p in self.posted if p.path == path]

    def heartbeats(self) -> list[dict[str, Any]]:
        return self.bodies(api_paths.HEARTBEAT)

    def completion(self) -> dict[str, Any]:
        """The one completion sent."""
        [body] = self.bodies(api_paths.COMPLETION)
        return body

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
