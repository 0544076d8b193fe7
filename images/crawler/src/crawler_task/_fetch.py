"""HTTP fetching: politeness per host, retries with jittered backoff, redirects,
content-type and size limits."""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import aiohttp

from crawler_task._urls import host_of, normalize_url

# Never wait longer than this for one Retry-After, whatever the server asks.
MAX_RETRY_AFTER = 120.0
MAX_BACKOFF = 30.0
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PAGE_TYPES = frozenset({"text/html", "application/xhtml+xml", "application/json"})
ACCEPT = "text/html,application/xhtml+xml,application/json;q=0.9,*/*;q=0.8"
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)


class FetchError(Exception):
    """A page that could not be fetched; `kind` is what result_data counts."""

    def __init__(self, kind: str, url: str, detail: str = "") -> None:
        self.kind = kind
        self.url = url
        super().__init__(f"{kind} fetching {url}" + (f": {detail}" if detail else ""))


class Skipped(Exception):
    """A page deliberately not processed (robots, non-HTML, too large, duplicate)."""

    def __init__(self, reason: str, url: str) -> None:
        self.reason = reason
        self.url = url
        super().__init__(f"{reason}: {url}")


@dataclass(slots=True)
class Page:
    url: str
    status: int
    media_type: str
    body: bytes
    charset: str | None = None

    @property
    def is_json(self) -> bool:
        return self.media_type == "application/json" or self.media_type.endswith("+json")

    def text(self) -> str:
        encoding = self.charset
        if encoding is None and not self.is_json:
            found = _META_CHARSET.search(self.body, 0, 4096)
            encoding = found.group(1).decode("ascii") if found else None
        try:
            return self.body.decode(encoding or "utf-8", errors="replace")
        except LookupError:
            return self.body.decode("utf-8", errors="replace")


class HostGate:
    """Politeness for one host. With a delay, requests to the host go one at a
    time and the next starts `delay` seconds after the previous one *finished*,
    so the server never sees two requests closer than `delay`. A Retry-After
    pauses the whole host."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self._lock = asyncio.Lock()
        self._ready_at = 0.0

    def pause_until(self, when: float) -> None:
        self._ready_at = max(self._ready_at, when)

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self.delay <= 0:
            wait = self._ready_at - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            yield
            return
        async with self._lock:
            wait = self._ready_at - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                yield
            finally:
                self._ready_at = max(self._ready_at, time.monotonic() + self.delay)


class HostGates:
    def __init__(self, delay: float) -> None:
        self.delay = delay
        self._gates: dict[str, HostGate] = {}

    def for_host(self, host: str) -> HostGate:
        gate = self._gates.get(host)
        if gate is None:
            gate = self._gates[host] = HostGate(self.delay)
        return gate


def retry_after_seconds(value: str | None) -> float | None:
    """Seconds from a Retry-After header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - time.time()
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
    return min(max(float(seconds), 0.0), MAX_RETRY_AFTER)


def backoff_seconds(attempt: int, base: float) -> float:
    """Exponential backoff with full jitter around the nominal value."""
    return min(MAX_BACKOFF, base * 2.0**attempt) * random.uniform(0.5, 1.5)


def _error_kind(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError | aiohttp.ServerTimeoutError):
        return "timeout"
    if isinstance(exc, aiohttp.ClientConnectionError | aiohttp.ClientPayloadError):
        return "connection"
    return "http_client"


@dataclass(slots=True)
class _Hop:
    status: int
    location: str | None = None
    page: Page | None = None


class Fetcher:
    """Fetches pages over one aiohttp session.

    `allowed(url)` (robots.txt) and `claim(url)` (first time seen?) are asked for
    every redirect target, so a redirect cannot sneak past either.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        gates: HostGates,
        *,
        timeout: float,
        retries: int,
        max_redirects: int,
        max_bytes: int,
        backoff_base: float = 0.5,
    ) -> None:
        self.session = session
        self.gates = gates
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.retries = retries
        self.max_redirects = max_redirects
        self.max_bytes = max_bytes
        self.backoff_base = backoff_base
        self.bytes_downloaded = 0
        self.retried = 0

    async def fetch_page(
        self,
        url: str,
        allowed: Callable[[str], Awaitable[bool]] | None,
        claim: Callable[[str], bool],
    ) -> Page:
        for hop_number in range(self.max_redirects + 1):
            hop = await self._request(url, page_types=PAGE_TYPES)
            if hop.page is not None:
                return hop.page
            target = normalize_url(hop.location or "", url)
            if target is None:
                raise FetchError("bad_redirect", url, f"Location {hop.location!r}")
            if hop_number == self.max_redirects:
                raise FetchError("too_many_redirects", url, f"more than {self.max_redirects}")
            if not claim(target):
                raise Skipped("duplicate", target)
            if allowed is not None and not await allowed(target):
                raise Skipped("robots", target)
            url = target
        raise AssertionError("unreachable")  # pragma: no cover

    async def fetch_text(self, url: str) -> tuple[int, str]:
        """(status, body) of a small text resource such as robots.txt, redirects
        followed; 0 as the status when it could not be fetched at all."""
        for _ in range(6):  # RFC 9309: follow at least five redirects
            try:
                hop = await self._request(url, page_types=None)
            except (FetchError, Skipped):
                return 0, ""
            if hop.page is not None:
                return hop.status, hop.page.text()
            target = normalize_url(hop.location or "", url)
            if target is None:
                return 0, ""
            url = target
        return 0, ""

    async def _request(self, url: str, page_types: frozenset[str] | None) -> _Hop:
        gate = self.gates.for_host(host_of(url))
        attempt = 0
        while True:
            wait: float | None = None
            try:
                async with gate.slot():
                    async with self.session.get(
                        url, allow_redirects=False, timeout=self.timeout
                    ) as resp:
                        status = resp.status
                        if (status == 429 or status >= 500) and attempt < self.retries:
                            wait = retry_after_seconds(resp.headers.get("Retry-After"))
                            if wait is not None:
                                gate.pause_until(time.monotonic() + wait)
                            else:
                                wait = backoff_seconds(attempt, self.backoff_base)
                        else:
                            return await self._finish(url, resp, page_types)
            except (TimeoutError, aiohttp.ClientError) as exc:
                if attempt >= self.retries:
                    raise FetchError(
                        _error_kind(exc), url, str(exc) or type(exc).__name__
                    ) from None
                wait = backoff_seconds(attempt, self.backoff_base)
            attempt += 1
            self.retried += 1
            await asyncio.sleep(wait)

    async def _finish(
        self, url: str, resp: aiohttp.ClientResponse, page_types: frozenset[str] | None
    ) -> _Hop:
        status = resp.status
        if status in REDIRECT_STATUSES and "Location" in resp.headers:
            return _Hop(status, location=resp.headers["Location"])
        if status >= 300:
            if page_types is None:  # robots.txt: the status itself is the answer
                return _Hop(status, page=Page(url, status, "", b""))
            raise FetchError(f"http_{status}", url)
        media_type = resp.content_type.lower() if "Content-Type" in resp.headers else "text/html"
        if page_types is not None and not (
            media_type in page_types or media_type.endswith("+json")
        ):
            raise Skipped("non_html", url)
        length = resp.content_length
        if length is not None and length > self.max_bytes:
            raise Skipped("too_large", url)
        if length is not None:
            body = await resp.read()
        else:
            chunks = []
            size = 0
            async for chunk in resp.content.iter_chunked(65536):
                size += len(chunk)
                if size > self.max_bytes:
                    raise Skipped("too_large", url)
                chunks.append(chunk)
            body = b"".join(chunks)
        self.bytes_downloaded += len(body)
        return _Hop(status, page=Page(url, status, media_type, body, resp.charset))
