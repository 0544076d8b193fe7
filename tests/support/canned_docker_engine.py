"""A canned Docker engine on an in-memory stream, for unit tests of the Docker client
and of what the operator does with it: it answers ``GET /version`` like an engine of a
given API range and every other request with the next canned response."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from heartbeat_operator._docker_api import AsyncDockerApi


class CannedEngine:
    """Answers ``GET /version`` like an engine speaking ``oldest`` to ``newest``, and every
    other request with the next canned response; keeps what was sent."""

    def __init__(self, *answers: tuple[int, Any], newest: str = "1.52",
                 oldest: str = "1.44") -> None:
        self.answers = list(answers)
        self.newest, self.oldest = newest, oldest
        self.asked: list[bytes] = []  # the version questions
        self.sent: list[bytes] = []  # everything else

    def answer(self, request: bytes) -> bytes:
        if request.split(b" ")[1] == b"/version":
            self.asked.append(request)
            status, body = 200, {"ApiVersion": self.newest, "MinAPIVersion": self.oldest}
        else:
            self.sent.append(request)
            status, body = self.answers.pop(0)
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        return (f"HTTP/1.1 {status} X\r\nContent-Length: {len(payload)}\r\n\r\n".encode()
                + payload)

    async def open(self) -> tuple[Any, Any]:
        reader = asyncio.StreamReader()
        engine = self

        class Writer:
            def write(self, data: bytes) -> None:
                reader.feed_data(engine.answer(data))
                reader.feed_eof()

            def close(self) -> None:
                pass

        return reader, Writer()

    def api(self, version: str | None = None) -> AsyncDockerApi:
        return AsyncDockerApi(self.open, engine=lambda: "execution host h:22", version=version)

    def paths(self) -> list[bytes]:
        return [request.split(b" ")[1] for request in self.sent]
