"""One JSON POST over urllib that never raises: every outcome is a value."""

from __future__ import annotations

import http.client
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from heartbeat_contract import http as api_paths

from ._backoff import parse_retry_after

__all__ = ["PostResult", "encode_body", "post_json"]

USER_AGENT = "heartbeat-client/0.1"
# Answers are tiny JSON objects; a broken proxy streaming garbage must not eat memory.
MAX_RESPONSE_BYTES = 64 * 1024


@dataclass(frozen=True)
class PostResult:
    """What came back from one POST.

    ``status`` is None when no HTTP answer arrived at all (refused, reset,
    timed out); ``error`` then says why. ``body`` is the decoded JSON object
    of the answer when there was one.
    """

    status: int | None
    body: dict[str, Any] | None = None
    retry_after: float | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def retryable(self) -> bool:
        """Worth sending again as is: no answer, overload or a server-side error."""
        if self.status is None:
            return True
        return self.status in (408, 425, 429) or self.status >= 500


def encode_body(body: dict[str, Any]) -> bytes:
    """JSON bytes of a message; values JSON cannot hold are sent as strings."""
    return json.dumps(body, default=str, ensure_ascii=False, separators=(",", ":")).encode()


def _decode_answer(raw: bytes) -> dict[str, Any] | None:
    try:
        decoded = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return decoded if isinstance(decoded, dict) else None


def post_json(url: str, payload: bytes, token: str | None, timeout: float) -> PostResult:
    """POST ``payload`` (JSON bytes) to ``url`` with the bearer token; never raises."""
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    if token:
        headers[api_paths.AUTHORIZATION_HEADER] = f"{api_paths.BEARER} {token}"
    request = urllib.request.Request(url, data=payload, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read(MAX_RESPONSE_BYTES)
            return PostResult(status=response.status, body=_decode_answer(raw))
    except urllib.error.HTTPError as exc:
        try:
            raw = exc.read(MAX_RESPONSE_BYTES)
        except (OSError, ValueError):
            raw = b""
        finally:
            exc.close()
        retry_after = parse_retry_after(exc.headers.get("Retry-After"), time.time())
        return PostResult(
            status=exc.code,
            body=_decode_answer(raw),
            retry_after=retry_after,
            error=f"HTTP {exc.code}",
        )
    except urllib.error.URLError as exc:
        return PostResult(status=None, error=f"{type(exc.reason).__name__}: {exc.reason}")
    except (OSError, http.client.HTTPException, ValueError) as exc:
        # Resets, timeouts, truncated or garbled answers: all just "no answer".
        return PostResult(status=None, error=f"{type(exc).__name__}: {exc}")
