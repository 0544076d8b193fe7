"""A small async client of the Docker Engine API, for the operator and the trigger.

It speaks HTTP/1.1 over any byte stream: the engine's socket forwarded by sshd, or
`docker system dial-stdio`, through an SSH connection (asyncssh), or a TLS socket to a
`tcp://` engine. Each request gets a stream of its own: opening a channel on an open
SSH connection costs a round trip, and a launch makes only a handful of calls.

The API version is negotiated once per client (:mod:`heartbeat_operator._engine_version`),
so one client serves Docker 20.10 to 29 and later.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import struct
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from heartbeat_operator._engine_version import (
    ApiVersion,
    EngineRange,
    EngineVersionUnsupported,
    negotiate,
    range_from_ping,
    range_from_version,
    refuses_version,
)

__all__ = ["AsyncDockerApi", "ContainerState", "DockerApiError", "EngineVersionUnsupported",
           "ImageMissing", "PullFailed", "demux_log_stream", "parse_http_response",
           "split_image"]

StreamOpener = Callable[[], Awaitable[tuple[asyncio.StreamReader | Any, Any]]]


class DockerApiError(Exception):
    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(f"Docker API answered {status}: {message}")


class ImageMissing(DockerApiError):
    """The image is not on the engine."""


class PullFailed(DockerApiError):
    """The engine could not pull the image; the message is the engine's (or registry's)."""


def _error(status: int, body: bytes) -> str:
    try:
        return str(json.loads(body).get("message") or body[:200])
    except (ValueError, AttributeError):
        return body.decode("utf-8", "replace")[:200]


@dataclass(frozen=True)
class ContainerState:
    exists: bool
    running: bool = False
    status: str = "missing"
    exit_code: int | None = None
    oom_killed: bool = False
    error: str = ""


def parse_http_response(raw: bytes) -> tuple[int, bytes]:
    """Status and body of one HTTP/1.1 response read to EOF (chunked or not)."""
    status, _, body = parse_http_response_headers(raw)
    return status, body


def parse_http_response_headers(raw: bytes) -> tuple[int, dict[bytes, bytes], bytes]:
    """Status, headers (names and values lower-cased) and body of one response."""
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    try:
        status = int(lines[0].split()[1])
    except (IndexError, ValueError) as exc:
        raise DockerApiError(0, f"unreadable response {lines[0][:80]!r}") from exc
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        headers[name.strip().lower()] = value.strip().lower()
    if headers.get(b"transfer-encoding") == b"chunked":
        out = bytearray()
        rest = body
        while rest:
            size_line, _, rest = rest.partition(b"\r\n")
            size = int(size_line.split(b";")[0] or b"0", 16)
            if size == 0:
                break
            out += rest[:size]
            rest = rest[size + 2 :]
        body = bytes(out)
    return status, headers, body


def demux_log_stream(data: bytes) -> str:
    """Docker multiplexes stdout/stderr of a non-TTY container in 8-byte framed chunks."""
    out = bytearray()
    pos = 0
    while pos + 8 <= len(data):
        stream, size = data[pos], struct.unpack(">I", data[pos + 4 : pos + 8])[0]
        if stream not in (0, 1, 2):  # not framed: a TTY container
            return data.decode("utf-8", "replace")
        out += data[pos + 8 : pos + 8 + size]
        pos += 8 + size
    return out.decode("utf-8", "replace")


class AsyncDockerApi:
    """One engine's API. ``engine`` names it in errors (called when needed: an SSH host's
    address is known once connected); ``version`` pins the API version instead of
    negotiating it."""

    def __init__(self, open_stream: StreamOpener, *, timeout: float = 20.0,
                 engine: Callable[[], str] | None = None, version: str | None = None) -> None:
        self._open_stream = open_stream
        self._timeout = timeout
        self._engine = engine or (lambda: "the execution host")
        self._pinned = version is not None
        self._version = ApiVersion.parse(version) if version is not None else None
        self._negotiating = asyncio.Lock()

    @classmethod
    def over_tls(cls, host: str, port: int, ssl_context: ssl.SSLContext, *,
                 timeout: float = 20.0) -> AsyncDockerApi:
        async def opener() -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
            return await asyncio.open_connection(host, port, ssl=ssl_context)

        return cls(opener, timeout=timeout, engine=lambda: f"tcp://{host}:{port}")

    async def api_version(self) -> ApiVersion:
        """The version spoken: negotiated on first use, then kept."""
        async with self._negotiating:
            if self._version is None:
                self._version = negotiate(await self.engine_range(), self._engine())
            return self._version

    async def engine_range(self) -> EngineRange:
        """What the engine says it speaks (unversioned paths: every engine answers them)."""
        status, headers, body = await self._roundtrip("GET", "/version")
        try:
            if status == 200:
                return range_from_version(body)
            # A socket proxy may allow /_ping only; it names the newest version alone.
            status, headers, body = await self._roundtrip("GET", "/_ping")
            if status == 200:
                return range_from_ping(headers)
        except ValueError as exc:
            raise DockerApiError(status, f"the Docker engine of {self._engine()}: {exc}") from None
        raise DockerApiError(status, f"the Docker engine of {self._engine()} did not say which "
                                     f"Engine API versions it speaks: {_error(status, body)}")

    async def request(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        body: Any = None,
        *,
        timeout: float | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, bytes]:
        """One call at the negotiated version: status and body."""
        version = await self.api_version()
        status, _, answer = await self._roundtrip(
            method, f"/v{version}{path}", params, body, timeout=timeout, headers=headers)
        if status == 400 and not self._pinned and refuses_version(status, _error(status, answer)):
            # The engine was replaced under this client (an upgrade): ask again, once.
            async with self._negotiating:
                self._version = None
            version = await self.api_version()
            status, _, answer = await self._roundtrip(
                method, f"/v{version}{path}", params, body, timeout=timeout, headers=headers)
        return status, answer

    async def _roundtrip(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        body: Any = None,
        *,
        timeout: float | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[bytes, bytes], bytes]:
        query = f"?{urlencode(params)}" if params else ""
        payload = b"" if body is None else json.dumps(body).encode()
        extra = "".join(f"{name}: {value}\r\n" for name, value in (headers or {}).items())
        if body is not None:
            extra += "Content-Type: application/json\r\n"
        req = (
            f"{method} {path}{query} HTTP/1.1\r\nHost: docker\r\n"
            f"Connection: close\r\n{extra}Content-Length: {len(payload)}\r\n\r\n"
        ).encode() + payload

        async def roundtrip() -> bytes:
            reader, writer = await self._open_stream()
            try:
                writer.write(req)
                chunks = []
                while True:
                    chunk = await reader.read(65536)
                    if not chunk:
                        break
                    chunks.append(chunk)
                    if _complete(b"".join(chunks)):
                        break
                return b"".join(chunks)
            finally:
                writer.close()
                wait_closed = getattr(writer, "wait_closed", None)
                if wait_closed is not None:
                    with contextlib.suppress(Exception):
                        await wait_closed()

        raw = await asyncio.wait_for(roundtrip(), timeout or self._timeout)
        return parse_http_response_headers(raw)

    async def create(self, name: str, spec: dict[str, Any]) -> str:
        """Create a container; its id. ImageMissing when the engine lacks the image."""
        status, body = await self.request("POST", "/containers/create", {"name": name}, spec)
        if status == 404:
            raise ImageMissing(status, _error(status, body))
        if status != 201:
            raise DockerApiError(status, _error(status, body))
        return str(json.loads(body)["Id"])

    async def start(self, container: str) -> None:
        status, body = await self.request("POST", f"/containers/{quote(container)}/start")
        if status not in (204, 304):
            raise DockerApiError(status, _error(status, body))

    async def pull(self, image: str, *, auth: str | None = None,
                   timeout: float = 600.0) -> None:
        """Pull an image; ``auth`` is an ``X-Registry-Auth`` value. PullFailed with the
        engine's message when it could not."""
        repository, tag = split_image(image)
        params = {"fromImage": repository} | ({"tag": tag} if tag else {})
        status, body = await self.request(
            "POST", "/images/create", params, timeout=timeout,
            headers={"X-Registry-Auth": auth} if auth else None)
        if status != 200:
            raise PullFailed(status, _error(status, body))
        # The engine streams JSON lines; a failed pull is an error line in a 200.
        errors = [error for line in _json_lines(body) if (error := _stream_error(line))]
        if errors:
            raise PullFailed(status, errors[-1])

    async def containers(
        self, labels: list[str], *, running_only: bool = False
    ) -> list[dict[str, Any]]:
        """Containers carrying every one of the `key=value` labels."""
        filters: dict[str, list[str]] = {"label": labels}
        if running_only:
            filters["status"] = ["running"]
        status, body = await self.request(
            "GET", "/containers/json", {"all": 1, "filters": json.dumps(filters)})
        if status != 200:
            raise DockerApiError(status, _error(status, body))
        found: list[dict[str, Any]] = json.loads(body)
        return found

    async def inspect(self, name: str) -> ContainerState:
        status, body = await self.request("GET", f"/containers/{quote(name)}/json")
        if status == 404:
            return ContainerState(exists=False)
        if status != 200:
            raise DockerApiError(status, _error(status, body))
        state = json.loads(body).get("State", {})
        return ContainerState(
            exists=True,
            running=bool(state.get("Running")),
            status=str(state.get("Status", "unknown")),
            exit_code=state.get("ExitCode"),
            oom_killed=bool(state.get("OOMKilled")),
            error=str(state.get("Error") or ""),
        )

    async def wait_exit(self, name: str, *, timeout: float) -> ContainerState | None:
        """Block until the container is not running (at most ``timeout`` seconds), then
        its state; None when it still runs at the timeout. The engine answers at once
        for a container that already stopped or does not exist."""
        try:
            status, body = await self.request(
                "POST", f"/containers/{quote(name)}/wait", {"condition": "not-running"},
                timeout=timeout)
        except TimeoutError:
            return None
        if status not in (200, 404):
            raise DockerApiError(status, _error(status, body))
        return await self.inspect(name)

    async def wait(self, name: str, *, timeout: float = 600.0) -> int:
        """Block until the container is not running; its exit code."""
        status, body = await self.request(
            "POST", f"/containers/{quote(name)}/wait", {"condition": "not-running"},
            timeout=timeout)
        if status != 200:
            raise DockerApiError(status, _error(status, body))
        return int(json.loads(body)["StatusCode"])

    async def logs_tail(self, name: str, lines: int = 50) -> str:
        status, body = await self.request(
            "GET", f"/containers/{quote(name)}/logs", {"stdout": 1, "stderr": 1, "tail": lines}
        )
        if status != 200:
            return ""
        return demux_log_stream(body)

    async def stop(self, name: str, grace_seconds: int) -> None:
        status, body = await self.request(
            "POST", f"/containers/{quote(name)}/stop", {"t": grace_seconds}
        )
        if status not in (204, 304, 404):
            raise DockerApiError(status, _error(status, body))

    async def remove(self, name: str) -> None:
        status, body = await self.request(
            "DELETE", f"/containers/{quote(name)}", {"force": 1, "v": 1}
        )
        if status not in (204, 404, 409):
            raise DockerApiError(status, _error(status, body))


def split_image(image: str) -> tuple[str, str]:
    """'repo/name:tag' -> ('repo/name', 'tag'); no tag means 'latest'; digests kept."""
    if "@" in image:
        return image, ""
    name, sep, tag = image.rpartition(":")
    if not sep or "/" in tag:  # no tag, or the colon belongs to a registry's port
        return image, "latest"
    return name, tag


def _stream_error(line: dict[str, Any]) -> str:
    """A progress line's error: ``errorDetail`` (``error`` is deprecated since 1.48)."""
    detail = line.get("errorDetail")
    if isinstance(detail, dict) and detail.get("message"):
        return str(detail["message"])
    return str(line.get("error") or "")


def _json_lines(body: bytes) -> list[dict[str, Any]]:
    lines = []
    for raw in body.splitlines():
        try:
            value = json.loads(raw)
        except ValueError:
            continue
        if isinstance(value, dict):
            lines.append(value)
    return lines


def _complete(raw: bytes) -> bool:
    """True once a full response is buffered (dial-stdio may not close its end)."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    if not sep:
        return False
    lower = head.lower()
    for line in lower.split(b"\r\n"):
        if line.startswith(b"content-length:"):
            return len(body) >= int(line.split(b":", 1)[1])
    if b"transfer-encoding: chunked" in lower:
        return body.endswith(b"0\r\n\r\n")
    return head.startswith(b"HTTP/1.1 204") or head.startswith(b"HTTP/1.1 304")
