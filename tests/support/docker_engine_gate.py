"""A stand-in for a newer Docker engine, in front of the real one.

No newer engine than Debian's 20.10 (Engine API 1.41) installs on the test bed, so this
unix-socket proxy plays Docker Engine 29.0 for the parts a client sees of the version:
it answers ``/_ping`` (its ``Api-Version`` header) and ``/version`` (``ApiVersion``,
``MinAPIVersion``) as Engine 29.0 does (API 1.52, minimum 1.44, by default), refuses a
versioned path outside that range with the engine's own message and status 400, and
forwards every other request to the real engine's socket with the version prefix
rewritten to one the real engine speaks (``/v1.52/...`` -> ``/v1.41/...``), so the real
engine does the work. It is not a newer engine: what changed in the request and
response bodies between the versions is not emulated (the client's docstring in
``heartbeat_operator._engine_version`` says why none of it touches the client).

One request per connection (the client under test sends ``Connection: close``); request
bodies must carry a Content-Length. Asyncio, standard library only.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

_VERSIONED = re.compile(r"/v(\d+)\.(\d+)(/.*)")


def _version(text: str) -> tuple[int, int]:
    major, minor = text.split(".")
    return int(major), int(minor)


@dataclass
class EngineGate:
    """``async with EngineGate(socket_path) as gate:`` serves until the block ends."""

    socket_path: str
    backend_socket: str = "/var/run/docker.sock"
    newest: str = "1.52"
    oldest: str = "1.44"
    backend_version: str = "1.41"
    engine_version: str = "29.0.0"
    # What the gate saw ("METHOD /path?query") and what it passed to the real engine.
    requests: list[str] = field(default_factory=list)
    forwarded: list[str] = field(default_factory=list)
    _server: asyncio.AbstractServer | None = None
    _exchanges: set[asyncio.Task[None]] = field(default_factory=set)

    async def __aenter__(self) -> EngineGate:
        self._server = await asyncio.start_unix_server(self._serve, path=self.socket_path)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        for task in self._exchanges:
            task.cancel()
        await asyncio.gather(*self._exchanges, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._exchanges.add(task)
        task.add_done_callback(self._exchanges.discard)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
            body = await reader.readexactly(int(length.group(1))) if length else b""
            await self._answer(head, body, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _answer(self, head: bytes, body: bytes, writer: asyncio.StreamWriter) -> None:
        request_line, _, headers = head.decode("latin-1").partition("\r\n")
        method, target, _ = request_line.split(" ", 2)
        self.requests.append(f"{method} {target}")
        path, sep, query = target.partition("?")
        versioned = _VERSIONED.fullmatch(path)
        rest = versioned.group(3) if versioned else path
        if versioned:
            asked = (int(versioned.group(1)), int(versioned.group(2)))
            refusal = self._refusal(asked)
            if refusal:
                return self._reply(writer, 400, {"message": refusal})
        if rest == "/_ping":
            return self._reply(writer, 200, b"OK", content_type="text/plain; charset=utf-8",
                               body_wanted=method != "HEAD")
        if rest == "/version":
            return self._reply(writer, 200, self._version_answer())
        if versioned:
            target = f"/v{self.backend_version}{rest}{sep}{query}"
        self.forwarded.append(f"{method} {target}")
        await self._forward(f"{method} {target} HTTP/1.1", headers, body, writer)

    def _refusal(self, asked: tuple[int, int]) -> str:
        spoken = f"{asked[0]}.{asked[1]}"
        if asked < _version(self.oldest):
            return (f"client version {spoken} is too old. Minimum supported API version is "
                    f"{self.oldest}, please upgrade your client to a newer version")
        if asked > _version(self.newest):
            return (f"client version {spoken} is too new. Maximum supported API version is "
                    f"{self.newest}")
        return ""

    def _version_answer(self) -> dict[str, Any]:
        return {
            "Platform": {"Name": "Docker Engine - Community"},
            "Version": self.engine_version, "ApiVersion": self.newest,
            "MinAPIVersion": self.oldest, "Os": "linux", "Arch": "amd64",
        }

    def _reply(self, writer: asyncio.StreamWriter, status: int, body: Any, *,
               content_type: str = "application/json", body_wanted: bool = True) -> None:
        payload = body if isinstance(body, bytes) else json.dumps(body).encode() + b"\n"
        reason = {200: "OK", 400: "Bad Request"}[status]
        head = (f"HTTP/1.1 {status} {reason}\r\nApi-Version: {self.newest}\r\n"
                f"Content-Type: {content_type}\r\nDocker-Experimental: false\r\n"
                f"Ostype: linux\r\nServer: Docker/{self.engine_version} (linux)\r\n"
                f"Content-Length: {len(payload)}\r\n\r\n")
        writer.write(head.encode() + (payload if body_wanted else b""))

    async def _forward(self, request_line: str, headers: str, body: bytes,
                       writer: asyncio.StreamWriter) -> None:
        kept = [line for line in headers.split("\r\n")
                if line and not line.lower().startswith("connection:")]
        head = "\r\n".join([request_line, *kept, "Connection: close"]) + "\r\n\r\n"
        backend_reader, backend_writer = await asyncio.open_unix_connection(self.backend_socket)
        try:
            backend_writer.write(head.encode("latin-1") + body)
            await backend_writer.drain()
            while chunk := await backend_reader.read(65536):
                writer.write(chunk)
                await writer.drain()
        finally:
            backend_writer.close()
            with contextlib.suppress(ConnectionError):
                await backend_writer.wait_closed()
