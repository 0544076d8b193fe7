"""`crawler_config` of the task config (docs/contracts/config.md).

Selectors, XPath and JSONPath expressions are compiled here when their library is
importable (always in the crawler image and the Airflow environment), so a typo
fails before anything is launched, naming the field.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, Discriminator, Field, Tag, field_validator, model_validator

from task_config._base import StrictModel

DEFAULT_USER_AGENT = "Mozilla/5.0 (compatible; DataCollector/1.0)"
# Every record carries the page it came from under this key.
PAGE_URL_KEY = "page_url"
_FIELD_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")

FieldType = Literal["str", "int", "float"]
OutputFormat = Literal["json", "jsonl", "csv"]


def check_http_url(url: str) -> str:
    """An absolute http(s) URL with a host, or ValueError saying what is wrong."""
    if any(ch.isspace() for ch in url):
        raise ValueError(f"{url!r} contains whitespace; percent-encode it")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"{url!r} is not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"{url!r} must start with http:// or https://")
    if not parts.hostname:
        raise ValueError(f"{url!r} has no host")
    if port == 0:
        raise ValueError(f"{url!r} has port 0")
    return url


def check_css(selector: str) -> str:
    """A CSS selector that selectolax (the crawler's parser) accepts."""
    try:
        from selectolax.lexbor import LexborHTMLParser, SelectolaxError
    except ImportError:  # pragma: no cover - the crawler image re-validates
        return selector
    try:
        LexborHTMLParser("<p></p>").css(selector)
    except SelectolaxError:
        raise ValueError(f"{selector!r} is not a valid CSS selector") from None
    return selector


def check_xpath(expression: str) -> str:
    try:
        from lxml import etree
    except ImportError:  # pragma: no cover - the crawler image re-validates
        return expression
    try:
        etree.XPath(expression)
    except etree.XPathError as exc:
        raise ValueError(f"{expression!r} is not a valid XPath expression: {exc}") from None
    return expression


def check_regex(pattern: str) -> str:
    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"{pattern!r} is not a valid regular expression: {exc}") from None
    return pattern


def check_jsonpath(expression: str) -> str:
    try:
        from jsonpath_ng.ext.parser import parse
    except ImportError:  # pragma: no cover - the crawler image re-validates
        return expression
    try:
        parse(expression)
    except Exception as exc:  # the lexer and the parser raise different types
        raise ValueError(f"{expression!r} is not a valid JSONPath expression: {exc}") from None
    return expression


Selector = Annotated[str, Field(min_length=1, max_length=2000)]
HttpUrl = Annotated[str, Field(min_length=1, max_length=2048), AfterValidator(check_http_url)]


class FieldExtractor(StrictModel):
    """How one output field is taken out of a page: exactly one of css, xpath,
    regex, jsonpath. `attr` reads an attribute of the matched element instead of
    its text; `type` coerces the value (default: text as found, JSON values as
    they are); `all` returns every match as a list."""

    css: Selector | None = None
    xpath: Selector | None = None
    regex: Selector | None = None
    jsonpath: Selector | None = None
    attr: str | None = Field(default=None, min_length=1, max_length=100)
    type: FieldType | None = None
    all: bool = False

    @field_validator("css")
    @classmethod
    def _css(cls, value: str | None) -> str | None:
        return None if value is None else check_css(value)

    @field_validator("xpath")
    @classmethod
    def _xpath(cls, value: str | None) -> str | None:
        return None if value is None else check_xpath(value)

    @field_validator("regex")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        return None if value is None else check_regex(value)

    @field_validator("jsonpath")
    @classmethod
    def _jsonpath(cls, value: str | None) -> str | None:
        return None if value is None else check_jsonpath(value)

    @model_validator(mode="after")
    def _one_kind(self) -> FieldExtractor:
        kinds = [k for k in ("css", "xpath", "regex", "jsonpath") if getattr(self, k)]
        if len(kinds) != 1:
            found = ", ".join(kinds) or "none"
            raise ValueError(f"give exactly one of css, xpath, regex, jsonpath (found {found})")
        if self.attr is not None and kinds[0] not in ("css", "xpath"):
            raise ValueError("attr applies to css and xpath extractors only")
        return self

    @property
    def kind(self) -> str:
        return next(k for k in ("css", "xpath", "regex", "jsonpath") if getattr(self, k))

    @property
    def expression(self) -> str:
        value: str = getattr(self, self.kind)
        return value


class FollowLinks(StrictModel):
    """Which links are followed: those matched by `css` (their href) and/or whose
    absolute URL matches `pattern` (a regex, searched). Only the hosts of
    target_urls unless `same_host` is false."""

    css: Selector | None = None
    pattern: Selector | None = None
    same_host: bool = True

    @field_validator("css")
    @classmethod
    def _css(cls, value: str | None) -> str | None:
        return None if value is None else check_css(value)

    @field_validator("pattern")
    @classmethod
    def _pattern(cls, value: str | None) -> str | None:
        return None if value is None else check_regex(value)

    @model_validator(mode="after")
    def _something(self) -> FollowLinks:
        if self.css is None and self.pattern is None:
            raise ValueError('give css and/or pattern (e.g. {"css": "a"} follows every link)')
        return self


def _data_fields_shape(value: Any) -> str | None:
    if isinstance(value, dict):
        return "Extractors"
    return "Names" if isinstance(value, list) else None


# Tags start with a capital so error paths leave them out (task_config.models._field_path).
DataFields = Annotated[
    Annotated[list[str], Tag("Names"), Field(min_length=1, max_length=200)]
    | Annotated[dict[str, FieldExtractor], Tag("Extractors"), Field(min_length=1, max_length=200)],
    Discriminator(
        _data_fields_shape,
        custom_error_type="data_fields_shape",
        custom_error_message="must be a list of names (schema.org) or an object mapping "
        'each field to an extractor such as {"css": "h1"}',
    ),
]


class CrawlerConfig(StrictModel):
    """The crawler task (images/crawler). See images/crawler/README.md."""

    target_urls: list[HttpUrl] = Field(min_length=1, max_length=10_000)
    max_pages: int = Field(default=100, ge=1, le=10_000_000)
    delay: float = Field(default=1.0, ge=0, le=3600)
    user_agent: str = Field(default=DEFAULT_USER_AGENT, min_length=1, max_length=500)
    output_format: OutputFormat = "json"
    data_fields: DataFields
    item_selector: Selector | None = None
    follow_links: FollowLinks | None = None
    max_depth: int = Field(default=3, ge=0, le=1000)
    concurrency: int = Field(default=8, ge=1, le=512)
    obey_robots_txt: bool = True
    timeout: float = Field(default=30.0, gt=0, le=3600)
    retries: int = Field(default=3, ge=0, le=20)
    render: bool = False
    max_redirects: int = Field(default=10, ge=0, le=50)
    max_response_bytes: int = Field(default=10 * 1024 * 1024, ge=1024, le=1024**3)

    @field_validator("user_agent")
    @classmethod
    def _user_agent(cls, value: str) -> str:
        if any(ch in value for ch in "\r\n\0"):
            raise ValueError("must be a single line")
        return value

    @field_validator("data_fields")
    @classmethod
    def _field_names(
        cls, fields: list[str] | dict[str, FieldExtractor]
    ) -> list[str] | dict[str, FieldExtractor]:
        names = list(fields)
        for name in names:
            if not _FIELD_NAME.match(name):
                raise ValueError(
                    f"field name {name!r} must be letters, digits and underscores (max 64)"
                )
            if name == PAGE_URL_KEY:
                raise ValueError(f"{PAGE_URL_KEY!r} is reserved: every record carries it")
        if len(set(names)) != len(names):
            raise ValueError("field names must be unique")
        return fields

    @field_validator("item_selector")
    @classmethod
    def _item_selector(cls, value: str | None) -> str | None:
        # A JSONPath (starting with "$") selects repeated items on JSON pages.
        if value is None:
            return None
        return check_jsonpath(value) if value.startswith("$") else check_css(value)
