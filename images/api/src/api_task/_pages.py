"""Pagination: which request comes next, from the config and the last response."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from task_config.api import (
    CursorPagination,
    LinkHeaderPagination,
    NoPagination,
    OffsetPagination,
    PagePagination,
)

from api_task._paths import MISSING, compile_path

PaginationConfig = (
    NoPagination | PagePagination | OffsetPagination | CursorPagination | LinkHeaderPagination
)


@dataclass(frozen=True)
class PageRequest:
    number: int  # 1-based, for progress and errors
    url: str  # without query parameters that carry secrets
    params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Page:
    request: PageRequest
    body: Any
    link_header: str | None
    url: str  # the URL answered, secrets removed


class Paginator:
    """Sequential pagination: each request depends on the previous response."""

    numbered = False
    concurrency = 1

    def __init__(self, url: str, params: dict[str, str]) -> None:
        self.url, self.params = url, params

    def first(self) -> PageRequest:
        return PageRequest(1, self.url, dict(self.params))

    def after(self, page: Page) -> PageRequest | None:
        return None

    def numbered_request(self, index: int) -> PageRequest:
        raise NotImplementedError


class PageNumbers(Paginator):
    numbered = True

    def __init__(self, url: str, params: dict[str, str], config: PagePagination) -> None:
        super().__init__(url, params)
        self._config = config
        self.concurrency = config.concurrency
        if config.page_size_param and config.page_size:
            self.params = {**params, config.page_size_param: str(config.page_size)}

    def numbered_request(self, index: int) -> PageRequest:
        params = {**self.params, self._config.param: str(self._config.start + index)}
        return PageRequest(index + 1, self.url, params)

    def after(self, page: Page) -> PageRequest | None:
        return self.numbered_request(page.request.number)  # number is index + 1

    def first(self) -> PageRequest:
        return self.numbered_request(0)


class Offsets(Paginator):
    numbered = True

    def __init__(self, url: str, params: dict[str, str], config: OffsetPagination) -> None:
        super().__init__(url, params)
        self._config = config
        self.concurrency = config.concurrency
        self.params = {**params, config.limit_param: str(config.limit)}

    def numbered_request(self, index: int) -> PageRequest:
        offset = self._config.start + index * self._config.limit
        return PageRequest(index + 1, self.url, {**self.params, self._config.param: str(offset)})

    def after(self, page: Page) -> PageRequest | None:
        return self.numbered_request(page.request.number)  # number is index + 1

    def first(self) -> PageRequest:
        return self.numbered_request(0)


class Cursor(Paginator):
    def __init__(self, url: str, params: dict[str, str], config: CursorPagination) -> None:
        super().__init__(url, params)
        self._config = config
        self._cursor = compile_path(config.cursor_path, "api_config.pagination.cursor_path")

    def after(self, page: Page) -> PageRequest | None:
        value = self._cursor(page.body)
        if value is MISSING or value is None or value == "" or isinstance(value, dict | list):
            return None
        cursor = str(value).lower() if isinstance(value, bool) else str(value)
        if self._config.cursor_is_url:
            url = urljoin(page.url, cursor)
            if url == page.url:
                return None  # a server pointing at the page itself would loop forever
            return PageRequest(page.request.number + 1, url, {})
        if page.request.params.get(self._config.param) == cursor:
            return None
        params = {**self.params, self._config.param: cursor}
        return PageRequest(page.request.number + 1, self.url, params)


_LINK = re.compile(r"<([^>]*)>\s*((?:;\s*[^;,]+)*)")
_LINK_PARAM = re.compile(r';\s*([A-Za-z*-]+)\s*=\s*(?:"([^"]*)"|([^\s;,]+))')


def parse_link_header(header: str, base_url: str) -> dict[str, str]:
    """RFC 8288 Link header: relation type -> absolute URL (the first link of each)."""
    links: dict[str, str] = {}
    for match in _LINK.finditer(header):
        target, params = match.groups()
        for name, quoted, bare in _LINK_PARAM.findall(params):
            if name.lower() != "rel":
                continue
            for rel in (quoted or bare).lower().split():
                links.setdefault(rel, urljoin(base_url, target.strip()))
    return links


class LinkHeader(Paginator):
    def __init__(self, url: str, params: dict[str, str], config: LinkHeaderPagination) -> None:
        super().__init__(url, params)
        self._rel = config.rel.lower()

    def after(self, page: Page) -> PageRequest | None:
        if not page.link_header:
            return None
        target = parse_link_header(page.link_header, page.url).get(self._rel)
        if target is None or target == page.url:
            return None
        return PageRequest(page.request.number + 1, target, {})


def build_paginator(config: PaginationConfig, url: str, params: dict[str, str]) -> Paginator:
    if isinstance(config, PagePagination):
        return PageNumbers(url, params, config)
    if isinstance(config, OffsetPagination):
        return Offsets(url, params, config)
    if isinstance(config, CursorPagination):
        return Cursor(url, params, config)
    if isinstance(config, LinkHeaderPagination):
        return LinkHeader(url, params, config)
    return Paginator(url, params)


def same_origin(a: str, b: str) -> bool:
    left, right = urlsplit(a), urlsplit(b)
    return (left.scheme, left.netloc.lower()) == (right.scheme, right.netloc.lower())
