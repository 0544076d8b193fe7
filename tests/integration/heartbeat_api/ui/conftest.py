"""Real Redis (db 13, flushed per session), the real API as a process, the system
Chromium driven by Playwright, and executions driven by the real SDK."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from live_view_helpers import REDIS_URL, Api, Execution, log_in, running_api
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[4] / "artifacts" / "live_view"


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    client.close()
    with running_api() as server:
        yield server


# Module scope: Playwright's sync API leaves its event loop marked as running in this
# thread until it stops, which would break the async tests of the modules that follow.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def context(browser: Browser, api: Api) -> Iterator[BrowserContext]:
    ctx = browser.new_context(base_url=api.base_url, viewport={"width": 1400, "height": 900})
    ctx.set_default_timeout(15_000)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def admin_page(context: BrowserContext) -> Page:
    page = context.new_page()
    log_in(page)
    page.wait_for_url("**/ui")
    return page


@pytest.fixture
def executions() -> Iterator[list[Execution]]:
    """Executions a test starts; their heartbeat threads stop when it ends."""
    started: list[Execution] = []
    yield started
    for execution in started:
        execution.client.close(timeout=2)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
