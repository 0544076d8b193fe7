"""Records and links out of a fetched page: CSS (selectolax), XPath (lxml),
regex, JSONPath (jsonpath-ng) and schema.org names (JSON-LD, microdata)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import lxml.html
from jsonpath_ng.ext.parser import parse as parse_jsonpath
from lxml import etree
from selectolax.lexbor import LexborHTMLParser, LexborNode
from task_config.crawler import PAGE_URL_KEY, CrawlerConfig, FieldExtractor

from crawler_task import _schemaorg
from crawler_task._fetch import Page
from crawler_task._urls import LinkResolver, normalize_url

_NUMBER = re.compile(r"[-+]?(?:\d[\d,]*(?:\.\d+)?|\.\d+)")
Scope = LexborHTMLParser | LexborNode


class CoercionError(ValueError):
    pass


def _text_of(node: LexborNode) -> str:
    return " ".join(node.text(deep=True).split())


def coerce(value: Any, wanted: str | None) -> Any:
    """A value as the field's `type` asks; CoercionError when it cannot be."""
    if wanted is None or value is None:
        return value
    if wanted == "str":
        return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool) or isinstance(value, dict | list):
        raise CoercionError(f"cannot make {wanted} of {value!r}")
    if isinstance(value, int | float):
        number = float(value)
    else:
        found = _NUMBER.search(str(value))
        if found is None:
            raise CoercionError(f"no number in {str(value)[:50]!r}")
        number = float(found.group(0).replace(",", ""))
    if wanted == "float":
        return number
    if not number.is_integer():
        raise CoercionError(f"{number} is not a whole number")
    return int(number)


class _ParsedPage:
    """A page's parsed forms, each built on first use."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.text = page.text()
        self._tree: LexborHTMLParser | None = None
        self._json: Any = None
        self._jsonld: list[Any] | None = None

    @property
    def tree(self) -> LexborHTMLParser:
        if self._tree is None:
            self._tree = LexborHTMLParser(self.text)
        return self._tree

    @property
    def json(self) -> Any:
        if self._json is None:
            self._json = json.loads(self.text)
        return self._json

    @property
    def jsonld(self) -> list[Any]:
        if self._jsonld is None:
            self._jsonld = list(_schemaorg.jsonld_blocks(self.tree))
        return self._jsonld


FieldFn = Callable[[_ParsedPage, Any], list[Any]]


def _compile_field(spec: FieldExtractor) -> FieldFn:
    """A function (page, scope) -> every raw match of the field, in page order.

    `scope` is None for the whole page, else one repeated item (a selectolax
    node on HTML pages, a JSON value on JSON pages)."""
    kind, expr, attr, first_only = spec.kind, spec.expression, spec.attr, not spec.all
    if kind == "css":

        def css(page: _ParsedPage, scope: Any) -> list[Any]:
            root: Scope = scope if scope is not None else page.tree
            nodes = [root.css_first(expr)] if first_only else root.css(expr)
            if attr:
                return [n.attributes.get(attr) for n in nodes if n is not None]
            return [_text_of(n) for n in nodes if n is not None]

        return css
    if kind == "xpath":
        xpath = etree.XPath(expr)

        def run_xpath(page: _ParsedPage, scope: Any) -> list[Any]:
            html = scope.html if scope is not None else page.text
            if not html or not html.strip():
                return []
            root = lxml.html.fromstring(html)
            found = xpath(root)
            matches = found if isinstance(found, list) else [found]
            values: list[Any] = []
            for match in matches:
                if isinstance(match, etree._Element):
                    text = match.get(attr) if attr else " ".join(match.text_content().split())
                    values.append(text)
                else:
                    values.append(str(match) if not isinstance(match, float) else match)
            return values

        return run_xpath
    if kind == "regex":
        regex = re.compile(expr)

        def run_regex(page: _ParsedPage, scope: Any) -> list[Any]:
            text = scope.html if isinstance(scope, LexborNode) else page.text
            matches = regex.finditer(text or "")
            group = 1 if regex.groups else 0
            return [m.group(group) for m in matches]

        return run_regex
    path = parse_jsonpath(expr)

    def run_jsonpath(page: _ParsedPage, scope: Any) -> list[Any]:
        if scope is not None and not isinstance(scope, LexborNode):
            documents = [scope]
        elif page.page.is_json:
            documents = [page.json]
        else:  # on an HTML page, the page's JSON-LD blocks
            documents = page.jsonld
        return [match.value for doc in documents for match in path.find(doc)]

    return run_jsonpath


class Extractor:
    """Compiled from a CrawlerConfig once; `records(page)` and `links(page)` per page."""

    def __init__(self, config: CrawlerConfig) -> None:
        self.coercion_errors = 0
        self.field_names: list[str] = list(config.data_fields)
        self._by_name = isinstance(config.data_fields, list)
        self._fields: list[tuple[str, FieldFn, FieldExtractor]] = []
        if isinstance(config.data_fields, dict):
            for name, spec in config.data_fields.items():
                self._fields.append((name, _compile_field(spec), spec))
        self._item_selector = config.item_selector
        self._item_jsonpath = (
            parse_jsonpath(config.item_selector)
            if config.item_selector and config.item_selector.startswith("$")
            else None
        )
        follow = config.follow_links
        self._link_css = follow.css if follow else None
        self._link_pattern = re.compile(follow.pattern) if follow and follow.pattern else None
        self.follows_links = follow is not None

    def extract(self, page: Page) -> tuple[list[dict[str, Any]], list[str]]:
        """(records, links to follow) of one page."""
        parsed = _ParsedPage(page)
        return self._records(parsed), self._links(parsed)

    def _records(self, parsed: _ParsedPage) -> list[dict[str, Any]]:
        page = parsed.page
        if self._by_name:
            return self._named_records(parsed)
        if self._item_jsonpath is not None:
            scopes: list[Any] = (
                [m.value for m in self._item_jsonpath.find(parsed.json)] if page.is_json else []
            )
        elif self._item_selector and not page.is_json:
            scopes = parsed.tree.css(self._item_selector)
        else:
            scopes = [None]
        records = []
        for scope in scopes:
            record: dict[str, Any] = {}
            for name, run, spec in self._fields:
                record[name] = self._value(run(parsed, scope), spec)
            if scope is not None or any(v is not None and v != [] for v in record.values()):
                record[PAGE_URL_KEY] = page.url
                records.append(record)
        return records

    def _value(self, matches: list[Any], spec: FieldExtractor) -> Any:
        values = []
        for raw in matches:
            if raw is None:
                continue
            try:
                values.append(coerce(raw, spec.type))
            except CoercionError:
                self.coercion_errors += 1
        if spec.all:
            return values
        return values[0] if values else None

    def _named_records(self, parsed: _ParsedPage) -> list[dict[str, Any]]:
        if parsed.page.is_json:
            return []
        if self._item_selector and not self._item_selector.startswith("$"):
            items = [
                item
                for node in parsed.tree.css(self._item_selector)
                for item in _schemaorg.page_items(node)
            ]
        else:
            items = _schemaorg.page_items(parsed.tree, parsed.jsonld)
        records = []
        for item in items:
            record = {name: _schemaorg.lookup(item, name) for name in self.field_names}
            if any(value is not None for value in record.values()):
                record[PAGE_URL_KEY] = parsed.page.url
                records.append(record)
        return records

    def _links(self, parsed: _ParsedPage) -> list[str]:
        """Normalised absolute URLs of the links to follow (not yet filtered by host)."""
        page = parsed.page
        if not self.follows_links or page.is_json:
            return []
        tree = parsed.tree
        base = page.url
        base_tag = tree.css_first("base[href]")
        if base_tag is not None:
            base = normalize_url(base_tag.attributes.get("href") or "", page.url) or page.url
        hrefs: list[str] = []
        if self._link_css is not None:
            for node in tree.css(self._link_css):
                href = node.attributes.get("href")
                if href is not None:
                    hrefs.append(href)
                else:
                    hrefs.extend(a.attributes.get("href") or "" for a in node.css("a[href]"))
        else:
            hrefs = [a.attributes.get("href") or "" for a in tree.css("a[href]")]
        urls = []
        resolver = LinkResolver(base)
        for href in hrefs:
            url = resolver.resolve(href)
            if url is not None and (self._link_pattern is None or self._link_pattern.search(url)):
                urls.append(url)
        return urls
