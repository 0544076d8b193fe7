"""An HTTP front between the SDK and the real API that loses requests on purpose."""

from __future__ import annotations

import http.client
import json
import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

FORWARDED_HEADERS = ("Content-Type", "Authorization", "User-Agent")
RELAYED_HEADERS = ("Content-Type", "Retry-After")


class FlakyFront:
    """Modes: ``pass`` forwards everything; ``flaky`` loses about half the requests,
    either before the API sees them or by dropping the API's answer; ``silent``
    accepts connections and never answers.

    In ``flaky`` mode the first completion of each execution always reaches the
    API and loses its answer, so the SDK must resend a completion that the API
    already recorded: the case that makes "exactly once" hard.
    """

    def __init__(self, upstream: str, seed: int = 20) -> None:
        parts = urlsplit(upstream)
        self._upstream = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.mode = "pass"
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._resume = threading.Event()
        self.completion_attempts: dict[str, int] = {}
        self.counts: dict[str, int] = {
            "forwarded": 0,
            "lost_before": 0,
            "lost_after": 0,
            "unanswered": 0,
        }
        front = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                fate = front._fate(self.path, body)
                if fate == "unanswered":
                    front._resume.wait(30)
                    return  # the connection closes without an answer
                if fate == "lost_before":
                    return
                status, headers, answer = front._forward("POST", self.path, self.headers, body)
                if fate == "lost_after":
                    return
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, args=(0.05,))
        self._thread.daemon = True
        self._thread.start()

    def set_mode(self, mode: str) -> None:
        with self._lock:
            self.mode = mode
            if mode == "silent":
                self._resume.clear()
            else:
                self._resume.set()

    def count(self, fate: str) -> int:
        with self._lock:
            return self.counts[fate]

    def _fate(self, path: str, body: bytes) -> str:
        with self._lock:
            if self.mode == "silent":
                fate = "unanswered"
            elif self.mode == "pass":
                fate = "forwarded"
            elif path.endswith("/completion") and self._first_completion(body):
                # Recorded by the API, answer lost: the SDK must resend it.
                fate = "lost_after"
            else:
                fate = self._rng.choice(["forwarded", "forwarded", "lost_before", "lost_after"])
            self.counts[fate] += 1
            return fate

    def _first_completion(self, body: bytes) -> bool:
        execution_id = str(json.loads(body)["execution_id"])
        attempts = self.completion_attempts.get(execution_id, 0) + 1
        self.completion_attempts[execution_id] = attempts
        return attempts == 1

    def _forward(
        self, method: str, path: str, headers: Any, body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        connection = http.client.HTTPConnection(*self._upstream, timeout=10)
        try:
            forwarded = {name: headers[name] for name in FORWARDED_HEADERS if name in headers}
            connection.request(method, path, body=body, headers=forwarded)
            response = connection.getresponse()
            answer = response.read()
            relayed = [(n, v) for n in RELAYED_HEADERS if (v := response.getheader(n))]
            return response.status, relayed, answer
        finally:
            connection.close()

    def close(self) -> None:
        self._resume.set()
        self.server.shutdown()
        self.server.server_close()
