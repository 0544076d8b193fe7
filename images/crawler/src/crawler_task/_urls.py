"""URL normalisation: one spelling per page, so each page is fetched once."""

from __future__ import annotations

import posixpath
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}
# Characters left as they are when re-quoting a path or query (RFC 3986 reserved
# and unreserved, plus "%" so existing escapes survive).
_SAFE_PATH = "/:@!$&'()*+,;=-._~%"
_SAFE_QUERY = _SAFE_PATH + "?"


def normalize_url(url: str, base: str | None = None) -> str | None:
    """Absolute, normalised http(s) URL, or None for anything we do not crawl
    (mailto:, javascript:, broken URLs).

    Lower-case scheme and host, default port dropped, dot segments resolved,
    fragment dropped, empty path made "/", unsafe characters percent-encoded.
    """
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


def dedupe_key(normalized: str) -> str:
    """The key a page is known by: the normalised URL with its query parameters
    sorted, so ?a=1&b=2 and ?b=2&a=1 are one page."""
    head, sep, query = normalized.partition("?")
    if not sep or "&" not in query:
        return normalized
    return f"{head}?{'&'.join(sorted(query.split('&')))}"


def host_of(url: str) -> str:
    """host[:port] of a normalised URL (what politeness and robots.txt go by)."""
    return urlsplit(url).netloc


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
