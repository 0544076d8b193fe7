"""robots.txt per origin, fetched once through the crawler's own fetcher (same
user agent, same politeness) and read by urllib.robotparser."""

from __future__ import annotations

import asyncio
import logging
import time
from urllib.robotparser import RobotFileParser

from crawler_task._fetch import Fetcher, HostGates
from crawler_task._urls import host_of, origin_of

log = logging.getLogger(__name__)
# A Crawl-delay above this is treated as this (a typo must not stall a crawl for hours).
MAX_CRAWL_DELAY = 60.0


def _agent_token(parser: RobotFileParser, user_agent: str) -> str:
    """The name robotparser should match groups with.

    robotparser compares a group's name with the text before the first "/" of
    the user agent ("Mozilla"), so "User-agent: DataCollector" would never match
    "Mozilla/5.0 (compatible; DataCollector/1.0)". Pick the group name the
    user agent mentions instead, as crawlers conventionally do.
    """
    lowered = user_agent.lower()
    for entry in getattr(parser, "entries", []):
        for agent in entry.useragents:
            if agent != "*" and agent.lower() in lowered:
                return str(agent)
    return user_agent


class RobotsCache:
    def __init__(self, fetcher: Fetcher, gates: HostGates, user_agent: str) -> None:
        self.fetcher = fetcher
        self.gates = gates
        self.user_agent = user_agent
        self.unavailable = 0
        self._parsers: dict[str, tuple[RobotFileParser, str]] = {}
        self._loading: dict[str, asyncio.Future[tuple[RobotFileParser, str]]] = {}

    async def allowed(self, url: str) -> bool:
        origin = origin_of(url)
        known = self._parsers.get(origin)
        if known is None:
            task = self._loading.get(origin)
            if task is None:
                task = self._loading[origin] = asyncio.ensure_future(self._load(origin))
            # Shielded: one waiter being cancelled must not cancel the shared load.
            known = await asyncio.shield(task)
        parser, agent = known
        return parser.can_fetch(agent, url)

    def close(self) -> None:
        for task in self._loading.values():
            task.cancel()

    async def _load(self, origin: str) -> tuple[RobotFileParser, str]:
        status, text = await self.fetcher.fetch_text(f"{origin}/robots.txt")
        parser = RobotFileParser(f"{origin}/robots.txt")
        if 200 <= status < 300:
            parser.parse(text.splitlines())
            delay = parser.crawl_delay(_agent_token(parser, self.user_agent))
            if delay is not None:
                gate = self.gates.for_host(host_of(origin))
                gate.delay = max(gate.delay, min(float(delay), MAX_CRAWL_DELAY))
                gate.pause_until(time.monotonic() + gate.delay)  # robots.txt was a request too
        elif 400 <= status < 500 and status != 429:
            parser.allow_all = True  # type: ignore[attr-defined]  # RFC 9309: no robots.txt, no restrictions
        else:
            # RFC 9309: robots.txt unreachable (5xx, 429, no answer) means full disallow.
            log.warning("robots.txt of %s unavailable (status %s): not crawling it", origin, status)
            self.unavailable += 1
            parser.disallow_all = True  # type: ignore[attr-defined]
        parser.modified()
        known = self._parsers[origin] = (parser, _agent_token(parser, self.user_agent))
        return known
