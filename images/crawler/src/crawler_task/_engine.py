"""The crawl: a frontier of URLs per host, `concurrency` workers, robots.txt,
extraction, streaming output, progress and a graceful stop. No heartbeat client in
here (only the SDK's Reporter type): `__main__` wires it to run_task."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

import aiohttp
from heartbeat_client import Reporter
from heartbeat_contract import states
from task_config import TaskConfig
from task_config.crawler import CrawlerConfig

from crawler_task._extract import Extractor
from crawler_task._fetch import ACCEPT, Fetcher, FetchError, HostGates, Page, Skipped
from crawler_task._output import RecordWriter
from crawler_task._robots import RobotsCache
from crawler_task._urls import dedupe_key, host_of, normalize_url

log = logging.getLogger(__name__)

StopCheck = Callable[[], bool]
STOP_POLL_SECONDS = 0.1


class PageFetcher(Protocol):
    async def fetch_page(
        self,
        url: str,
        allowed: Callable[[str], Awaitable[bool]] | None,
        claim: Callable[[str], bool],
    ) -> Page: ...


class _Frontier:
    """URLs waiting, one FIFO per host, served round-robin so one big host does
    not starve the others."""

    def __init__(self) -> None:
        self._queues: dict[str, deque[tuple[str, int]]] = {}
        self._hosts: deque[str] = deque()
        self._size = 0
        self._waiter: asyncio.Event | None = None

    def __len__(self) -> int:
        return self._size

    def push(self, url: str, depth: int) -> None:
        host = host_of(url)
        queue = self._queues.get(host)
        if queue is None:
            queue = self._queues[host] = deque()
        if not queue:
            self._hosts.append(host)
        queue.append((url, depth))
        self._size += 1
        self.wake()

    def pop(self) -> tuple[str, int] | None:
        if not self._hosts:
            return None
        host = self._hosts.popleft()
        queue = self._queues[host]
        job = queue.popleft()
        if queue:
            self._hosts.append(host)
        self._size -= 1
        return job

    def wake(self) -> None:
        if self._waiter is not None:
            self._waiter.set()
            self._waiter = None

    async def changed(self) -> None:
        if self._waiter is None:
            self._waiter = asyncio.Event()
        await self._waiter.wait()


class Crawler:
    """One crawl of a task config. `run()` once; `result()` at any time (the
    partial result after an error)."""

    def __init__(
        self,
        config: TaskConfig,
        reporter: Reporter | None = None,
        should_stop: StopCheck | None = None,
        *,
        backoff_base: float = 0.5,
        progress_interval: float = 1.0,
    ) -> None:
        if config.crawler_config is None:
            raise ValueError("crawler_config is required for the crawler task")
        self.config: CrawlerConfig = config.crawler_config
        self.storage = config.storage_config
        self.reporter = reporter
        self.should_stop = should_stop or (lambda: False)
        self.backoff_base = backoff_base
        self.progress_interval = progress_interval
        self.extractor = Extractor(self.config)
        self.errors: Counter[str] = Counter()
        self.skipped: Counter[str] = Counter()
        self.pages_started = 0
        self.pages_done = 0
        self.pages_ok = 0
        self.records = 0
        self.stop_reason = "not_started"
        self._seen: set[str] = set()
        self._frontier = _Frontier()
        self._in_flight = 0
        self._allowed_hosts: set[str] = set()
        self._writer: RecordWriter | None = None
        self._output_bytes = 0
        self._fetcher: Fetcher | None = None
        self._robots: RobotsCache | None = None
        self._started_at = time.monotonic()
        self._finished_at: float | None = None

    # -- public ------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        return asyncio.run(self.run_async())

    async def run_async(self) -> dict[str, Any]:
        self._started_at = time.monotonic()
        self._writer = RecordWriter(
            Path(self.storage.output_path),
            self.storage.filename_prefix,
            self.config.output_format,
            self.extractor.field_names,
        )
        try:
            for url in self.config.target_urls:
                normalized = normalize_url(url)
                if normalized is not None:
                    self._allowed_hosts.add(host_of(normalized))
                    if self._claim(normalized):
                        self._frontier.push(normalized, 0)
            await self._crawl()
        finally:
            self._output_bytes = self._writer.close()
            self._finished_at = time.monotonic()
            self._report()
        log.info("crawl %s: %s", self.stop_reason, self.result())
        return self.result()

    def result(self) -> dict[str, Any]:
        elapsed = self._elapsed()
        files = [str(self._writer.path)] if self._writer and self._writer.closed else []
        cancelled = self.stop_reason == states.CANCELLED
        return {
            "status": states.CANCELLED if cancelled else states.COMPLETED,
            "stop_reason": self.stop_reason,
            "pages_crawled": self.pages_done,
            "pages_ok": self.pages_ok,
            "records": self.records,
            "errors": dict(self.errors),
            "errors_total": sum(self.errors.values()),
            "skipped": dict(self.skipped),
            "retries": self._fetcher.retried if self._fetcher else 0,
            "output_files": files,
            "output_bytes": self._output_bytes,
            "bytes_downloaded": self._fetcher.bytes_downloaded if self._fetcher else 0,
            "duration_seconds": round(elapsed, 3),
            "pages_per_second": round(self.pages_done / elapsed, 2) if elapsed > 0 else 0.0,
        }

    def progress(self) -> dict[str, Any]:
        elapsed = self._elapsed()
        return {
            "stage": "crawling" if self._finished_at is None else self.stop_reason,
            "pages_done": self.pages_done,
            "max_pages": self.config.max_pages,
            "percentage": round(100 * self.pages_done / self.config.max_pages, 1),
            "records": self.records,
            "errors": sum(self.errors.values()),
            "skipped": sum(self.skipped.values()),
            "queued": len(self._frontier),
            "in_flight": self._in_flight,
            "pages_per_second": round(self.pages_done / elapsed, 2) if elapsed > 0 else 0.0,
        }

    # -- the crawl ---------------------------------------------------------

    async def _crawl(self) -> None:
        cfg = self.config
        gates = HostGates(cfg.delay)
        connector = aiohttp.TCPConnector(limit=0, ttl_dns_cache=300)
        headers = {"User-Agent": cfg.user_agent, "Accept": ACCEPT}
        async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
            self._fetcher = Fetcher(
                session,
                gates,
                timeout=cfg.timeout,
                retries=cfg.retries,
                max_redirects=cfg.max_redirects,
                max_bytes=cfg.max_response_bytes,
                backoff_base=self.backoff_base,
            )
            if cfg.obey_robots_txt:
                self._robots = RobotsCache(self._fetcher, gates, cfg.user_agent)
            if cfg.render:
                from crawler_task._render import BrowserFetcher

                async with BrowserFetcher(gates, cfg) as browser:
                    await self._run_workers(browser)
            else:
                await self._run_workers(self._fetcher)
            if self._robots is not None:
                self._robots.close()

    async def _run_workers(self, fetcher: PageFetcher) -> None:
        workers = {
            asyncio.ensure_future(self._worker(fetcher)) for _ in range(self.config.concurrency)
        }
        watcher = asyncio.ensure_future(self._watch())
        try:
            pending = set(workers)
            while pending:
                done, pending = await asyncio.wait(
                    pending | {watcher}, return_when=asyncio.FIRST_COMPLETED
                )
                pending.discard(watcher)
                for task in done:
                    failure = None if task is watcher else task.exception()
                    if failure is not None:
                        raise failure
                if watcher in done:  # a stop was requested
                    self.stop_reason = states.CANCELLED
                    break
        finally:
            for task in (*workers, watcher):
                task.cancel()
            await asyncio.gather(*workers, watcher, return_exceptions=True)
        if self.stop_reason != states.CANCELLED:
            self.stop_reason = (
                "max_pages" if self.pages_started >= self.config.max_pages else "no_more_links"
            )

    async def _watch(self) -> None:
        """Returns when a stop is requested; reports progress meanwhile."""
        next_report = time.monotonic()
        while not self.should_stop():
            now = time.monotonic()
            if now >= next_report:
                self._report()
                next_report = now + self.progress_interval
            await asyncio.sleep(STOP_POLL_SECONDS)
        log.info("stop requested: finishing with what has been collected")

    async def _worker(self, fetcher: PageFetcher) -> None:
        frontier = self._frontier
        while self.pages_started < self.config.max_pages:
            job = frontier.pop()
            if job is None:
                if self._in_flight == 0:
                    frontier.wake()  # let the other idle workers see the end too
                    return
                await frontier.changed()
                continue
            self._in_flight += 1
            try:
                await self._process(fetcher, *job)
            finally:
                self._in_flight -= 1
                frontier.wake()

    async def _process(self, fetcher: PageFetcher, url: str, depth: int) -> None:
        allowed = self._robots.allowed if self._robots is not None else None
        if allowed is not None and not await allowed(url):
            self.skipped["robots"] += 1
            return
        if self.pages_started >= self.config.max_pages:
            return
        self.pages_started += 1
        try:
            page = await fetcher.fetch_page(url, allowed, self._claim)
        except Skipped as skip:
            self.skipped[skip.reason] += 1
            self.pages_done += 1
            log.debug("skipped %s", skip)
            return
        except FetchError as exc:
            self.errors[exc.kind] += 1
            self.pages_done += 1
            log.info("%s", exc)
            return
        self.pages_done += 1
        self.pages_ok += 1
        if depth == 0 and page.url != url:
            self._allowed_hosts.add(host_of(page.url))  # a start URL's own redirect
        try:
            before = self.extractor.coercion_errors
            records, links = self.extractor.extract(page)
            if self.extractor.coercion_errors > before:
                self.errors["type_coercion"] += self.extractor.coercion_errors - before
        except Exception as exc:  # a page we cannot parse must not end the crawl
            self.errors["parse"] += 1
            log.warning("cannot parse %s: %s: %s", page.url, type(exc).__name__, exc)
            return
        assert self._writer is not None
        for record in records:
            self._writer.write(record)
        self.records += len(records)
        if depth < self.config.max_depth:
            self._enqueue(links, depth + 1)

    def _enqueue(self, links: list[str], depth: int) -> None:
        follow = self.config.follow_links
        same_host = follow is None or follow.same_host
        for link in links:
            if same_host and host_of(link) not in self._allowed_hosts:
                continue
            if self._claim(link):
                self._frontier.push(link, depth)

    def _claim(self, url: str) -> bool:
        """True the first time a page is seen (then it is ours to fetch)."""
        key = dedupe_key(url)
        if key in self._seen:
            return False
        self._seen.add(key)
        return True

    def _elapsed(self) -> float:
        return (self._finished_at or time.monotonic()) - self._started_at

    def _report(self) -> None:
        if self.reporter is None:
            return
        try:
            self.reporter(self.progress())
        except Exception:  # progress is best effort; the crawl goes on
            log.exception("progress reporter failed")


def crawl(
    config: TaskConfig,
    reporter: Reporter | None = None,
    should_stop: StopCheck | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Run one crawl to the end (or to a stop) and return its result_data."""
    return Crawler(config, reporter, should_stop, **options).run()
