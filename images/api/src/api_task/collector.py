"""The API collection run: `collect(config, env, reporter, should_stop) -> result_data`.

A library that runs without a heartbeat API: `reporter(progress)` (a
heartbeat_client.Reporter) receives progress at least once a second and
`should_stop()` is polled ten times a second.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
from heartbeat_client import Reporter, TaskFailure
from heartbeat_contract import states
from task_config import TaskConfig, validate_config
from task_config.api import ApiConfig, NoPagination

from api_task._auth import build_authenticator
from api_task._fetch import Counters, Fetcher, FetchError
from api_task._limits import TokenBucket, Unlimited
from api_task._output import OutputWriter
from api_task._pages import Page, Paginator, build_paginator, same_origin
from api_task._records import IncrementalFilter, RecordsError, RecordsLocator
from api_task._secrets import MissingSecretError, Redactor

log = logging.getLogger(__name__)

StopCheck = Callable[[], bool]
REPORT_INTERVAL = 0.5
_POLL = 0.1


class CollectionError(TaskFailure):
    """The run failed. The message is safe to show; `result` (also `partial_result`) is
    the partial result_data (with the incoming incremental state, never a new one)."""

    def __init__(self, message: str, result: dict[str, Any]) -> None:
        super().__init__(message, result)
        self.result = result


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _start_url(task: TaskConfig, api: ApiConfig) -> str:
    if "://" in api.endpoint:
        return api.endpoint
    base = api.base_url or task.base_url
    if not base:
        raise ValueError(
            "api_config.base_url: not set (nor the top-level base_url) and "
            "api_config.endpoint is not a full URL; set one of them"
        )
    if not api.endpoint:
        return base
    return f"{base.rstrip('/')}/{api.endpoint.lstrip('/')}"


class _Run:
    def __init__(
        self,
        task: TaskConfig,
        api: ApiConfig,
        env: Mapping[str, str],
        reporter: Reporter,
        should_stop: StopCheck,
        redactor: Redactor,
    ) -> None:
        self.task, self.api, self.env = task, api, env
        self.reporter, self.should_stop, self.redactor = reporter, should_stop, redactor
        self.counters = Counters()
        self.started = time.monotonic()
        self.pages = 0
        self.written = 0
        self.stopped_because = states.FAILED
        self.stop_requested = False
        self.incremental = IncrementalFilter(api.incremental) if api.incremental else None
        self.locator = RecordsLocator(api.records_path, isinstance(api.pagination, NoPagination))
        self.writer: OutputWriter | None = None

    # progress and result ---------------------------------------------------------
    def progress(self) -> dict[str, Any]:
        return {
            "stage": self.counters.stage,
            "pages": self.pages,
            "records": self.written,
            "requests": self.counters.requests,
            "retries": self.counters.retries,
            "rate_limited_seconds": round(self.counters.rate_limited_seconds, 1),
            "elapsed_seconds": round(time.monotonic() - self.started, 1),
        }

    def report(self) -> None:
        self.counters.report_now = False
        try:
            self.reporter(self.progress())
        except Exception:  # progress must never end a run
            log.exception("progress reporter failed")

    def result(self, succeeded: bool) -> dict[str, Any]:
        data: dict[str, Any] = {
            "requests": self.counters.requests,
            "records": self.written,
            "retries": self.counters.retries,
            "rate_limited_seconds": round(self.counters.rate_limited_seconds, 3),
            "pages": self.pages,
            "output_files": [self.writer.name] if self.writer else [],
            "output_format": self.api.output_format,
            "duration_seconds": round(time.monotonic() - self.started, 3),
            "stopped_because": self.stopped_because,
        }
        if self.incremental is not None:
            inc = self.incremental
            # Only a completed run moves the state; a partial one may have missed records.
            data["state"] = inc.state() if succeeded else inc.incoming
            data["records_skipped"] = inc.skipped
        return data

    # the run ---------------------------------------------------------------------
    def select(self, page: Page) -> list[Any] | None:
        """The records of a page to write, None at the end of the data. Sets
        stopped_because to max_records when this page completes the wanted number."""
        records = self.locator.records(page.body, page.request.number)
        if not records:
            self.stopped_because = "end_of_data"
            return None
        self.pages += 1
        if self.incremental is not None:
            records = self.incremental.newer(records)
        limit = self.api.max_records
        if limit is not None and self.written + len(records) >= limit:
            records = records[: limit - self.written]
            self.stopped_because = "max_records"
        return records

    def write(self, records: list[Any]) -> None:
        assert self.writer is not None
        self.writer.write(records)
        self.written += len(records)
        if self.incremental is not None:
            self.incremental.observe(records)

    async def paginate(self, fetcher: Fetcher, paginator: Paginator, origin: str) -> None:
        if paginator.numbered and paginator.concurrency > 1:
            await self._paginate_ahead(fetcher, paginator)
            return
        pending = asyncio.create_task(fetcher.fetch(paginator.first()))
        try:
            while True:
                page = await pending
                records = self.select(page)
                if records is None:
                    return
                wanted_more = self.stopped_because != "max_records"
                following = paginator.after(page) if wanted_more else None
                if following is not None:
                    self._check_origin(following.url, following.number, origin)
                    # The next request goes out before this page is written, so the
                    # writing overlaps the wait for the server.
                    pending = asyncio.create_task(fetcher.fetch(following))
                self.write(records)
                if following is None:
                    if wanted_more:
                        self.stopped_because = "end_of_data"
                    return
        finally:
            if not pending.done():
                pending.cancel()
                await asyncio.gather(pending, return_exceptions=True)

    def _check_origin(self, url: str, number: int, origin: str) -> None:
        if not same_origin(url, origin):
            raise FetchError(
                self.redactor.text(
                    f"page {number}: the next page is on another host ({url}); "
                    f"credentials are only sent to {origin}"
                )
            )

    async def _paginate_ahead(self, fetcher: Fetcher, paginator: Paginator) -> None:
        # Numbered pages are independent: keep `concurrency` requests in flight and
        # take the answers in page order.
        window: deque[asyncio.Task[Page]] = deque()
        index = 0
        try:
            while True:
                while len(window) < paginator.concurrency:
                    request = paginator.numbered_request(index)
                    window.append(asyncio.create_task(fetcher.fetch(request)))
                    index += 1
                records = self.select(await window.popleft())
                if records is None:
                    return
                self.write(records)
                if self.stopped_because == "max_records":
                    return
        finally:
            for pending in window:
                pending.cancel()
            await asyncio.gather(*window, return_exceptions=True)

    async def watch(self, work: asyncio.Task[None]) -> None:
        """Report progress and turn a stop request into cancelling the work."""
        last = 0.0
        while not work.done():
            if not self.stop_requested and self.should_stop():
                self.stop_requested = True
                log.info("stop requested: finishing the output file")
                work.cancel()
            now = time.monotonic()
            if self.counters.report_now or now - last >= REPORT_INTERVAL:
                self.report()
                last = now
            await asyncio.wait({work}, timeout=_POLL)

    async def execute(self) -> dict[str, Any]:
        api = self.api
        try:
            url = _start_url(self.task, api)
        except ValueError as exc:
            raise CollectionError(str(exc), self.result(False)) from None
        params = {name: _scalar(value) for name, value in api.params.items()}
        if api.incremental is not None and api.incremental.state is not None:
            params[api.incremental.param] = _scalar(api.incremental.state)
        limiter: TokenBucket | Unlimited = (
            TokenBucket(api.rate_limit.requests_per_second, api.rate_limit.burst)
            if api.rate_limit
            else Unlimited()
        )
        concurrency = getattr(api.pagination, "concurrency", 1)
        connector = aiohttp.TCPConnector(limit=concurrency + 1, ttl_dns_cache=300)
        async with aiohttp.ClientSession(connector=connector, trust_env=True) as session:
            try:
                auth = build_authenticator(
                    api.auth,
                    self.env,
                    self.redactor,
                    session,
                    api.timeout,
                    api.retry.max_attempts,
                    self._count_token_request,
                )
                paginator = build_paginator(api.pagination, url, params)
            except (MissingSecretError, ValueError) as exc:
                raise CollectionError(self.redactor.text(str(exc)), self.result(False)) from None
            fetcher = Fetcher(session, api, auth, limiter, self.redactor, self.counters)
            log.info(
                "collecting %s (pagination %s) into %s",
                self.redactor.text(url),
                api.pagination.type,
                self.task.storage_config.output_path,
            )
            return await self._run_to_end(fetcher, paginator, url)

    def _count_token_request(self) -> None:
        self.counters.requests += 1

    async def _run_to_end(self, fetcher: Fetcher, paginator: Paginator, url: str) -> dict[str, Any]:
        storage = self.task.storage_config
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        name = f"{storage.filename_prefix}_{stamp}.{self.api.output_format}"
        scrub = self.redactor.output if self.redactor.active else None
        try:
            self.writer = OutputWriter(
                Path(storage.output_path), name, self.api.output_format, scrub
            )
        except OSError as exc:
            raise CollectionError(
                f"storage_config.output_path: cannot write {storage.output_path}: "
                f"{exc.strerror}; mount a writable output directory",
                self.result(False),
            ) from None
        failure: str | None = None
        if self.should_stop():
            self.stop_requested = True
        work = asyncio.create_task(self.paginate(fetcher, paginator, url))
        if self.stop_requested:
            work.cancel()
        try:
            await self.watch(work)
            await work
        except asyncio.CancelledError:
            if not self.stop_requested:
                raise
            self.stopped_because = states.CANCELLED
        except (FetchError, RecordsError) as exc:
            failure = self.redactor.text(str(exc))
        except OSError as exc:
            failure = f"storage_config.output_path: writing {name} failed: {exc.strerror}"
        except Exception as exc:  # an unforeseen error still leaves a valid file
            failure = self.redactor.text(f"unexpected {type(exc).__name__}: {exc}")
        finally:
            if not work.done():  # we are being cancelled from outside
                work.cancel()
                await asyncio.gather(work, return_exceptions=True)
            self.writer.close()
        succeeded = failure is None and not self.stop_requested
        self.counters.stage = "done" if succeeded else self.stopped_because
        if failure is not None:
            self.stopped_because = self.counters.stage = states.FAILED
        self.report()
        result = self.result(succeeded)
        if failure is not None:
            log.error("collection failed: %s", failure)
            raise CollectionError(failure, result)
        log.info(
            "collected %d records from %d pages in %.1fs (%d requests, %d retries), %s",
            self.written,
            self.pages,
            result["duration_seconds"],
            self.counters.requests,
            self.counters.retries,
            self.stopped_because,
        )
        return result


async def collect_async(
    config: TaskConfig | Mapping[str, Any],
    env: Mapping[str, str],
    reporter: Reporter,
    should_stop: StopCheck,
    *,
    redactor: Redactor | None = None,
) -> dict[str, Any]:
    """Run the collection; returns result_data or raises CollectionError."""
    task = config if isinstance(config, TaskConfig) else validate_config(dict(config))
    if task.api_config is None:
        raise CollectionError(
            f"api_config: missing (task_type is {task.task_type!r}); this image runs api tasks",
            {},
        )
    run = _Run(task, task.api_config, env, reporter, should_stop, redactor or Redactor())
    return await run.execute()


def collect(
    config: TaskConfig | Mapping[str, Any],
    env: Mapping[str, str],
    reporter: Reporter,
    should_stop: StopCheck,
    *,
    redactor: Redactor | None = None,
) -> dict[str, Any]:
    """Blocking form of `collect_async`, for the container's main thread."""
    return asyncio.run(collect_async(config, env, reporter, should_stop, redactor=redactor))
