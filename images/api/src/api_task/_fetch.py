"""One page: credentials, the rate limit, retries with backoff, and errors that say
what to fix. No secret reaches a message: URLs are built without them and every
message goes through the redactor."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import aiohttp
import orjson
from task_config.api import ApiConfig
from yarl import URL

from api_task._auth import Authenticator, AuthError
from api_task._limits import TokenBucket, Unlimited, backoff_delay, parse_retry_after
from api_task._pages import Page, PageRequest, same_origin
from api_task._secrets import Redactor

log = logging.getLogger(__name__)
_SNIPPET = 200
_MAX_REDIRECTS = 10
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
WaitHook = Callable[[str, float], None]


class FetchError(Exception):
    """A page that cannot be had; the message is safe to show (no secrets)."""


class Counters:
    def __init__(self) -> None:
        self.requests = 0
        self.retries = 0
        self.rate_limited_seconds = 0.0
        self.stage = "starting"
        self.report_now = False

    def waiting(self, kind: str, seconds: float) -> None:
        self.stage = kind
        if seconds >= 0.25:
            self.report_now = True  # a long wait shows at once, not at the next tick


def _with_query(url: str, params: dict[str, str]) -> str:
    if not params:
        return url
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"


def _without_query_names(url: str, names: frozenset[str]) -> str:
    if not names:
        return url
    parts = urlsplit(url)
    if not parts.query:
        return url
    kept = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in names]
    return urlunsplit(parts._replace(query=urlencode(kept)))


def _hint(status: int, auth: Authenticator) -> str:
    if status in (401, 403):
        return auth.hint()
    if status in (404, 405, 410):
        return "check api_config.base_url, api_config.endpoint and api_config.method"
    if status in (400, 422):
        return "check api_config.params, api_config.body and api_config.pagination"
    return "see the response below"


class Fetcher:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        config: ApiConfig,
        auth: Authenticator,
        limiter: TokenBucket | Unlimited,
        redactor: Redactor,
        counters: Counters,
    ) -> None:
        self._session = session
        self._config = config
        self._auth = auth
        self._limiter = limiter
        self._redactor = redactor
        self._counters = counters
        self._retryable = frozenset(config.retry.retry_on_status) | {429}
        self._timeout = aiohttp.ClientTimeout(total=config.timeout)
        self._headers = {"Accept": "application/json", **config.headers}
        self._body = orjson.dumps(config.body) if config.body is not None else None
        if self._body is not None:
            self._headers.setdefault("Content-Type", "application/json")

    async def fetch(self, request: PageRequest) -> Page:
        url = _without_query_names(request.url, self._auth.query_names)
        refreshed = False
        attempt = 0
        while True:
            attempt += 1
            await self._wait_for_token()
            credentials_used = self._auth.current()
            page, status, problem, retry_after = await self._try(request, url)
            if page is not None:
                return page
            if status == 401 and self._auth.can_refresh and not refreshed:
                refreshed = True  # the token may have expired early: get a new one, once
                await self._refresh(credentials_used)
                attempt -= 1
                continue
            delay = self._retry_delay(request, url, attempt, status, problem, retry_after)
            await self._pause(status, delay)

    def _where(self, request: PageRequest, url: str) -> str:
        """The page for a message (only built when one is needed), secrets removed."""
        shown = self._redactor.text(_with_query(url, request.params))
        return f"page {request.number}: {self._config.method} {shown}"

    async def _try(
        self, request: PageRequest, url: str
    ) -> tuple[Page | None, int, str, float | None]:
        """One attempt as (page, status, problem, retry_after); a connection error or a
        timeout is status 0, worth retrying; any other failure is a FetchError."""
        try:
            return await self._attempt(request, url)
        except AuthError as exc:
            raise FetchError(self._redactor.text(str(exc))) from None
        except (aiohttp.ClientConnectionError, aiohttp.ClientPayloadError) as exc:
            return None, 0, f"connection error ({type(exc).__name__})", None
        except TimeoutError:
            return None, 0, f"no answer within api_config.timeout={self._config.timeout:g}s", None
        except aiohttp.ClientError as exc:
            raise FetchError(
                self._redactor.text(
                    f"{self._where(request, url)} failed: {type(exc).__name__}: {exc}"
                )
            ) from None

    async def _refresh(self, credentials_used: str | None) -> None:
        self._counters.retries += 1
        try:
            await self._auth.refresh(credentials_used)
        except AuthError as exc:
            raise FetchError(self._redactor.text(str(exc))) from None

    def _retry_delay(
        self,
        request: PageRequest,
        url: str,
        attempt: int,
        status: int,
        problem: str,
        retry_after: float | None,
    ) -> float:
        """Seconds to wait before the next attempt, or the FetchError that ends the page:
        a status not worth retrying, no attempts left, or a Retry-After too long."""
        retry = self._config.retry
        if status and status not in self._retryable:
            raise FetchError(self._redactor.text(f"{self._where(request, url)} returned {problem}"))
        if attempt >= retry.max_attempts:
            raise FetchError(
                self._redactor.text(
                    f"{self._where(request, url)} failed after {attempt} attempts, last: "
                    f"{problem}; retry later or raise api_config.retry.max_attempts"
                )
            )
        if retry_after is not None and retry_after > retry.max_retry_after:
            raise FetchError(
                self._redactor.text(
                    f"{self._where(request, url)} returned {problem} asking to wait "
                    f"{retry_after:.0f}s (Retry-After), more than "
                    f"api_config.retry.max_retry_after={retry.max_retry_after:g}s"
                )
            )
        delay = retry_after
        if delay is None:
            delay = backoff_delay(attempt, retry.backoff_factor, retry.max_backoff)
        self._counters.retries += 1
        log.warning(
            "%s",
            self._redactor.text(
                f"{self._where(request, url)}: {problem}; "
                f"retry {attempt}/{retry.max_attempts - 1} in {delay:.1f}s"
            ),
        )
        return delay

    async def _pause(self, status: int, delay: float) -> None:
        if status == 429:
            # The server speaks for every request: hold them all, not just this one.
            self._limiter.pause_until(time.monotonic() + delay)
            return
        self._counters.waiting("retrying", delay)
        await asyncio.sleep(delay)
        self._counters.stage = "fetching"

    async def _wait_for_token(self) -> None:
        waited = await self._limiter.acquire(self._counters.waiting)
        if waited:
            self._counters.rate_limited_seconds += waited
        self._counters.stage = "fetching"

    async def _attempt(
        self, request: PageRequest, url: str
    ) -> tuple[Page | None, int, str, float | None]:
        """(page, status, problem, retry_after): a page, or why not.

        Redirects are followed here, not by aiohttp: credentials (headers and query
        key) go only to the origin they were configured for, never across a redirect."""
        headers = dict(self._headers)
        params = dict(request.params)
        await self._auth.apply(headers, params)
        target = _with_query(url, params)
        method, data = self._config.method, self._body
        for _hop in range(_MAX_REDIRECTS + 1):
            self._counters.requests += 1
            async with self._session.request(
                method,
                URL(target, encoded=True),
                headers=headers,
                data=data,
                timeout=self._timeout,
                allow_redirects=False,
            ) as response:
                status = response.status
                location = response.headers.get("Location")
                if status in _REDIRECTS and location:
                    following = urljoin(target, location)
                    if not same_origin(following, target):
                        headers = dict(self._headers)
                        following = _without_query_names(following, self._auth.query_names)
                    if status == 303 or (status in (301, 302) and method == "POST"):
                        method, data = "GET", None
                    target = following
                    continue
                if status >= 400:
                    snippet = (await response.content.read(_SNIPPET)).decode("utf-8", "replace")
                    problem = f"{status} {response.reason}: {_hint(status, self._auth)}"
                    if snippet.strip():
                        problem += f" (response: {' '.join(snippet.split())})"
                    retry_after = parse_retry_after(response.headers.get("Retry-After"))
                    return None, status, problem, retry_after
                raw = await response.read()
                link = response.headers.get("Link")
            try:
                body: Any = orjson.loads(raw) if raw.strip() else None
            except orjson.JSONDecodeError as exc:
                try:  # orjson refuses integers beyond 64 bits; the standard library does not
                    body = json.loads(raw)
                except ValueError:
                    return None, 0, f"a body that is not JSON ({exc})", None
            answered = _without_query_names(target, self._auth.query_names)
            return Page(request, body, link, answered), status, "", None
        raise FetchError(
            self._redactor.text(
                f"page {request.number}: {self._config.method} {url} redirected more than "
                f"{_MAX_REDIRECTS} times; check api_config.base_url and api_config.endpoint"
            )
        )
