"""Which Engine API version to speak with a Docker engine, decided as the Docker CLI does:
ask the engine once (``GET /version``, else ``GET /_ping``) and speak the newest version
both sides know.

This client speaks Engine API 1.41 (Docker 20.10) to 1.52 (Docker 29.0). Between them
the Engine API changelog changes nothing this client sends or reads, except where noted:

- create: the body's fields (``Image``, ``Env``, ``Labels``, ``User``, ``HostConfig``'s
  ``Binds``, ``Memory``, ``NanoCpus``, ``NetworkMode``, ``ExtraHosts``) are unchanged;
  from 1.44 ``:ro`` binds are recursively read-only (the config is one file: no effect)
  and validation errors come at create instead of start (both are checked).
- start, stop (``t``), remove (``force``, ``v``), list (``all``, label and status
  ``filters``), inspect (``State.Running``, ``Status``, ``ExitCode``, ``OOMKilled``,
  ``Error``), logs (multiplexed frames; 1.42 only adds a Content-Type): unchanged.
- pull (``POST /images/create`` with ``X-Registry-Auth``): from 1.48 the stream's
  ``error`` field is deprecated for ``errorDetail``; both are read.

Pure: no I/O. The client in :mod:`heartbeat_operator._docker_api` does the asking.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from airflow.sdk.exceptions import AirflowFailException


@dataclass(frozen=True, order=True)
class ApiVersion:
    major: int
    minor: int

    @classmethod
    def parse(cls, text: str) -> ApiVersion:
        """'1.41' (or 'v1.41') -> ApiVersion(1, 41)."""
        match = re.fullmatch(r"v?(\d+)\.(\d+)", text.strip())
        if match is None:
            raise ValueError(f"not an Engine API version: {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.major}.{self.minor}"


OLDEST = ApiVersion(1, 41)  # Docker 20.10
NEWEST = ApiVersion(1, 52)  # Docker 29.0


@dataclass(frozen=True)
class EngineRange:
    """The API versions an engine speaks; ``oldest`` is None when it did not say."""

    newest: ApiVersion
    oldest: ApiVersion | None = None

    def __str__(self) -> str:
        oldest = self.oldest if self.oldest is not None else "?"
        return f"{oldest} to {self.newest}"


class EngineVersionUnsupported(AirflowFailException):
    """The engine and this client have no Engine API version in common: a task fails
    for good (a retry cannot change the engine)."""

    def __init__(self, engine: str, offered: EngineRange) -> None:
        self.engine = engine
        self.offered = offered
        if offered.newest < OLDEST:
            advice = "upgrade the engine to Docker 20.10 or later"
        else:
            advice = ("upgrade heartbeat-operator, or let the engine accept API "
                      f"{NEWEST} (dockerd's DOCKER_MIN_API_VERSION)")
        super().__init__(
            f"the Docker engine of {engine} speaks Engine API {offered}, this client "
            f"{OLDEST} to {NEWEST}: no version in common; {advice}")

    def __reduce__(self) -> tuple[type[EngineVersionUnsupported], tuple[str, EngineRange]]:
        return type(self), (self.engine, self.offered)


def negotiate(offered: EngineRange, engine: str) -> ApiVersion:
    """The newest version both sides speak; EngineVersionUnsupported when there is none."""
    chosen = min(NEWEST, offered.newest)
    if chosen < OLDEST or (offered.oldest is not None and chosen < offered.oldest):
        raise EngineVersionUnsupported(engine, offered)
    return chosen


def range_from_version(body: bytes) -> EngineRange:
    """From ``GET /version``'s ``ApiVersion`` and ``MinAPIVersion``."""
    try:
        answer = json.loads(body)
        newest = ApiVersion.parse(str(answer["ApiVersion"]))
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"unreadable /version answer: {body[:200]!r}") from exc
    oldest = answer.get("MinAPIVersion")
    return EngineRange(newest, ApiVersion.parse(str(oldest)) if oldest else None)


def range_from_ping(headers: dict[bytes, bytes]) -> EngineRange:
    """From ``GET /_ping``'s ``Api-Version`` header (it does not say the oldest)."""
    value = headers.get(b"api-version")
    if not value:
        raise ValueError("the /_ping answer has no Api-Version header")
    return EngineRange(ApiVersion.parse(value.decode("ascii", "replace")))


_REFUSED = re.compile(r"client version \S+ is too (old|new)")


def refuses_version(status: int, message: str) -> bool:
    """True when the engine refused the request's API version (it changed under us)."""
    return status == 400 and _REFUSED.search(message) is not None
