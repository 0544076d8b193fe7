"""Error answers shared by the FastAPI handlers and the heartbeat fast path."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

import orjson

from heartbeat_api import metrics

logger = logging.getLogger("heartbeat_api")

JSON_HEADERS = [(b"content-type", b"application/json")]


def redis_location(redis_url: str) -> str:
    # host:port/db only: the URL may carry a password.
    parts = urlsplit(redis_url)
    return f"{parts.hostname or 'localhost'}:{parts.port or 6379}{parts.path or ''}"


def redis_unavailable(location: str, error: BaseException, path: str) -> dict[str, Any]:
    """Counts and logs the reject; returns the 503 body."""
    metrics.reject("redis_unavailable")
    logger.warning(
        "redis unavailable",
        extra={
            "event": "redis_unavailable",
            "redis": location,
            "error": type(error).__name__,
            "path": path,
        },
    )
    return {"detail": f"Redis at {location} is unreachable; nothing was written. Retry shortly."}


def json_bytes(payload: Any) -> bytes:
    return orjson.dumps(payload, default=str)
