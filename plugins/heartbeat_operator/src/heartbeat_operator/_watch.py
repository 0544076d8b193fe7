"""What the trigger does next, decided in pure code.

The trigger observes (the execution's record in Redis, and the container's state when
asked for) and :func:`decide` maps one :class:`Observation` to the next action. No I/O,
no clock and no Airflow here, so every case is a unit test: the startup timeout, a
running but silent container, the execution deadline, a trigger resumed after a
triggerer restart (times come from Redis, so it resumes where the last one was), and
the retry budget of :func:`retry_delay`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeAlias

from heartbeat_contract import states

from heartbeat_operator._docker_api import ContainerState

# Shortest and longest single wait on the event stream, in seconds.
MIN_WAIT = 0.05
MAX_RETRY_DELAY = 15.0


@dataclass(frozen=True)
class Limits:
    """The timeouts of one watch, in seconds (``deadline`` is an epoch time)."""

    heartbeat_timeout: float = 30.0
    startup_timeout: float = 120.0
    silent_running_timeout: float = 300.0
    deadline: float | None = None
    log_interval: float = 5.0


@dataclass(frozen=True)
class Observation:
    """What the trigger saw at ``now``.

    ``status`` is None when the execution is not in Redis. ``container`` is None until
    the trigger has asked Docker during this round.
    """

    now: float
    status: str | None
    created_at: float | None = None
    last_heartbeat_at: float | None = None
    container: ContainerState | None = None

    @property
    def beating(self) -> bool:
        return self.last_heartbeat_at is not None

    @property
    def silence(self) -> float:
        """Seconds since the last heartbeat (or since registration, before the first)."""
        reference = self.last_heartbeat_at or self.created_at or self.now
        return max(self.now - reference, 0.0)


# -- actions ------------------------------------------------------------------------
@dataclass(frozen=True)
class Finish:
    """The execution is final in Redis: end the watch with that outcome."""

    status: str


@dataclass(frozen=True)
class Wait:
    """Nothing to do yet: wait for events on the stream for up to ``seconds``."""

    seconds: float
    warn: str | None = None


@dataclass(frozen=True)
class Inspect:
    """A heartbeat is overdue: ask Docker about the container, then decide again."""


@dataclass(frozen=True)
class Recover:
    """The container is not running and never reported through the API: read its
    completion file, and declare the execution lost with ``message`` if there is none."""

    message: str
    exit_code: int | None


@dataclass(frozen=True)
class GiveUp:
    """Stop the container and fail the execution."""

    reason: str
    message: str


@dataclass(frozen=True)
class Missing:
    """The execution is not in Redis: nothing can be watched."""


Action: TypeAlias = Finish | Wait | Inspect | Recover | GiveUp | Missing


def decide(seen: Observation, limits: Limits, container_name: str = "the container") -> Action:
    """The next action for what was observed (see the module docstring)."""
    if seen.status is None:
        return Missing()
    if states.is_final(seen.status):
        return Finish(seen.status)
    if limits.deadline is not None and seen.now >= limits.deadline:
        return GiveUp("execution_timeout", "the task ran past its execution_timeout")
    limit = limits.heartbeat_timeout if seen.beating else limits.startup_timeout
    silence = seen.silence
    if silence < limit:
        return Wait(_bounded_wait(limit - silence, seen.now, limits))
    if seen.container is None:
        return Inspect()
    if not seen.container.running:
        return Recover(lost_message(container_name, seen.container, silence),
                       seen.container.exit_code)
    if silence >= limit + limits.silent_running_timeout:
        return GiveUp("silent", f"container running but silent for {silence:.0f}s")
    warn = f"No heartbeat for {silence:.0f}s, but container {container_name} is running"
    return Wait(_bounded_wait(limits.heartbeat_timeout, seen.now, limits), warn=warn)


def _bounded_wait(wanted: float, now: float, limits: Limits) -> float:
    wait = min(wanted, limits.log_interval)
    if limits.deadline is not None:
        wait = min(wait, max(limits.deadline - now, 0.0))
    return max(wait, MIN_WAIT)


def lost_message(name: str, container: ContainerState, silence: float) -> str:
    """Why an execution is lost, naming the container, its state and exit code."""
    if not container.exists:
        reason = f"container {name} does not exist"
    else:
        reason = f"container {name} is {container.status}"
        if container.exit_code is not None:
            oom = ", OOM killed" if container.oom_killed else ""
            reason += f" (exit code {container.exit_code}{oom})"
    return f"lost: no heartbeat for {silence:.0f}s and {reason}"


def retry_delay(attempt: int, elapsed: float, budget: float) -> float | None:
    """Seconds before retry number ``attempt`` (1-based) of a failed connection, or None
    once ``elapsed`` seconds have used up the budget. Jitter is the caller's."""
    if elapsed > budget:
        return None
    return min(0.5 * 2.0 ** min(attempt - 1, 16), MAX_RETRY_DELAY)


def should_log(now: float, last_logged: float, limits: Limits) -> bool:
    return now - last_logged >= limits.log_interval


def outcome_event(status: str, execution_id: str, container_name: str,
                  **fields: Any) -> dict[str, Any]:
    """The trigger event's body: the keys execute_complete requires, then the rest."""
    return {"status": status, "execution_id": execution_id,
            "container_name": container_name, **fields}
