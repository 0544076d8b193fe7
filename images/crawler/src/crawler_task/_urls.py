"""URL normalisation: one spelling per page, so each page is fetched once."""

from __future__ import annotations

import posixpath
import re
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
# Characters left as they are when re-quoting a path or query (RFC 3986 reserved
# and unreserved, plus "%" so existing escapes survive).
_SAFE_PATH = "/:@!$&'()*+,;=-._~%"
_SAFE_QUERY = _SAFE_PATH + "?"
# An absolute URL that normalisation would leave as it is (lower-case host, no
# default port, no fragment, nothing to escape); checked before the full work
# because most links on a site already look like this.
_ALREADY_NORMAL = re.compile(
    r"https?://[a-z0-9.-]+(?::(?!80/|443/)[0-9]{1,5})?/[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*"
    r"(?:\?[A-Za-z0-9\-._~!$&'()*+,;=:@/%?]*)?"
)


def normalize_url(url: str, base: str | None = None) -> str | None:
    """Absolute, normalised http(s) URL, or None for anything we do not crawl
    (mailto:, javascript:, broken URLs).

    Lower-case scheme and host, default port dropped, dot segments resolved,
    fragment dropped, empty path made "/", unsafe characters percent-encoded.
    """
    if base is None and _ALREADY_NORMAL.fullmatch(url) and "/." not in url:
        return url
    try:
        absolute = urljoin(base, url.strip()) if base else url.strip()
        parts = urlsplit(absolute)
        scheme = parts.scheme.lower()
        if scheme not in _DEFAULT_PORTS or not parts.hostname:
            return None
        host = parts.hostname.lower()
        port = parts.port
    except ValueError:
        return None
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = host if port is None or port == _DEFAULT_PORTS[scheme] else f"{host}:{port}"
    path = parts.path or "/"
    if "." in path:
        trailing = path.endswith("/") or path.endswith("/.") or path.endswith("/..")
        path = posixpath.normpath(path)
        if path.startswith("//"):
            path = "/" + path.lstrip("/")
        if trailing and path != "/":
            path += "/"
    path = quote(path, safe=_SAFE_PATH)
    query = quote(parts.query, safe=_SAFE_QUERY)
    return urlunsplit((scheme, netloc, path, query, ""))


class LinkResolver:
    """normalize_url for the many links of one page, with the cheap cases
    (absolute, or starting with one "/") resolved without urljoin."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.origin = origin_of(base)

    def resolve(self, href: str) -> str | None:
        href = href.strip()
        if href.startswith("/") and not href.startswith("//"):
            return normalize_url(self.origin + href)
        if href.startswith(("http://", "https://")):
            return normalize_url(href)
        return normalize_url(href, self.base)


def dedupe_key(normalized: str) -> str:
    """The key a page is known by: the normalised URL with its query parameters
    sorted, so ?a=1&b=2 and ?b=2&a=1 are one page."""
    head, sep, query = normalized.partition("?")
    if not sep or "&" not in query:
        return normalized
    return f"{head}?{'&'.join(sorted(query.split('&')))}"


def host_of(url: str) -> str:
    """host[:port] of a normalised URL (what politeness and robots.txt go by)."""
    start = url.find("//") + 2
    end = url.find("/", start)
    return url[start:] if end < 0 else url[start:end]


def origin_of(url: str) -> str:
    """scheme://host[:port] of a normalised URL."""
    end = url.find("/", url.find("//") + 2)
    return url if end < 0 else url[:end]
