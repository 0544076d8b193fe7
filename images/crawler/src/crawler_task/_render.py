"""`render: true`: pages fetched through headless Chromium (Playwright), for sites
whose content only exists after their scripts run. Only in the
data-collection-crawler:browser image; robots.txt still comes over plain HTTP."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any

from task_config.crawler import CrawlerConfig

from crawler_task._fetch import PAGE_TYPES, FetchError, HostGates, Page, Skipped
from crawler_task._urls import host_of, normalize_url

CHROMIUM_PATH_ENV = "CRAWLER_CHROMIUM_PATH"
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Nothing on the page needs these to build its content; skipping them saves time.
_BLOCKED_RESOURCES = frozenset({"image", "media", "font"})


class BrowserFetcher:
    """Same interface as Fetcher.fetch_page; one browser, a fresh page per fetch."""

    def __init__(self, gates: HostGates, config: CrawlerConfig) -> None:
        self.gates = gates
        self.config = config
        self._playwright: Any = None
        self._browser: Any = None
        self._context: Any = None

    async def __aenter__(self) -> BrowserFetcher:
        try:
            from playwright.async_api import async_playwright
        except ImportError:
            raise RuntimeError(
                "crawler_config.render is true but Playwright is not installed: "
                "run the data-collection-crawler:browser image"
            ) from None
        executable = os.environ.get(CHROMIUM_PATH_ENV, DEFAULT_CHROMIUM)
        if not os.path.exists(executable):
            raise RuntimeError(
                f"crawler_config.render is true but no Chromium at {executable}: "
                f"run the data-collection-crawler:browser image or set {CHROMIUM_PATH_ENV}"
            )
        self._playwright = await async_playwright().start()
        try:
            self._browser = await self._playwright.chromium.launch(
                executable_path=executable, args=CHROMIUM_FLAGS, headless=True
            )
            self._context = await self._browser.new_context(user_agent=self.config.user_agent)
            await self._context.route("**/*", _route)
        except BaseException:
            await self._playwright.stop()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._browser is not None:
                await self._browser.close()
        finally:
            await self._playwright.stop()

    async def fetch_page(
        self,
        url: str,
        allowed: Callable[[str], Awaitable[bool]] | None,
        claim: Callable[[str], bool],
    ) -> Page:
        from playwright.async_api import Error as PlaywrightError

        timeout_ms = self.config.timeout * 1000
        async with self.gates.for_host(host_of(url)).slot():
            page = await self._context.new_page()
            try:
                try:
                    response = await page.goto(url, wait_until="load", timeout=timeout_ms)
                except PlaywrightError as exc:
                    kind = "timeout" if "Timeout" in str(exc) else "connection"
                    raise FetchError(kind, url, str(exc).splitlines()[0]) from None
                if response is None:
                    raise FetchError("connection", url, "no response")
                if response.status >= 300:
                    raise FetchError(f"http_{response.status}", url)
                media_type = (response.headers.get("content-type") or "text/html").split(";")[0]
                media_type = media_type.strip().lower()
                if not (media_type in PAGE_TYPES or media_type.endswith("+json")):
                    raise Skipped("non_html", url)
                try:  # scripts that fetch their data: give them until the network is quiet
                    await page.wait_for_load_state("networkidle", timeout=min(timeout_ms, 10_000))
                except PlaywrightError:
                    pass
                final = normalize_url(page.url) or url
                if final != url and not claim(final):
                    raise Skipped("duplicate", final)
                html = await page.content()
            finally:
                await asyncio.shield(page.close())
        body = html.encode("utf-8")
        if len(body) > self.config.max_response_bytes:
            raise Skipped("too_large", url)
        return Page(final, response.status, "text/html", body, "utf-8")


async def _route(route: Any) -> None:
    if route.request.resource_type in _BLOCKED_RESOURCES:
        await route.abort()
    else:
        await route.continue_()
