"""What the trigger does next, decided in pure code.

The trigger observes (the execution's record in Redis; the container's state, which
Docker reports the moment the container stops, or when asked) and :func:`decide` maps
one :class:`Observation` to the next action. No I/O, no clock and no Airflow here, so
every case is a unit test: a container that exited without reporting, the startup
timeout, a running but silent container, the execution deadline, a cancel request the
task ignores, a trigger resumed after a triggerer restart (times come from Redis, so it
resumes where the last one was), and the retry budget of :func:`retry_delay`.
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
    # Seconds a cancel request has for the task to stop by itself before `docker stop`.
    cancel_grace: float = 10.0


@dataclass(frozen=True)
class Observation:
    """What the trigger saw at ``now``.

    ``status`` is None when the execution is not in Redis. ``container`` is None while
    nothing is known of the container: Docker has not said it stopped, and the trigger
    has not asked during this round. ``stopping`` is set once the trigger has sent
    ``docker stop`` for a cancel request.
    """

    now: float
    status: str | None
    created_at: float | None = None
    last_heartbeat_at: float | None = None
    container: ContainerState | None = None
    cancel_requested_at: float | None = None
    stopping: bool = False

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
    completion file, and if there is none end the execution as ``status`` (``lost``, or
    ``cancelled`` when it stopped after a cancel request) with ``message``."""

    message: str
    exit_code: int | None
    status: str = states.LOST


@dataclass(frozen=True)
class StopContainer:
    """A cancel request was not obeyed within its grace: ``docker stop`` the container
    (SIGTERM, then SIGKILL after the grace period)."""

    message: str


@dataclass(frozen=True)
class GiveUp:
    """Stop the container and fail the execution."""

    reason: str
    message: str


@dataclass(frozen=True)
class Missing:
    """The execution is not in Redis: nothing can be watched."""


Action: TypeAlias = Finish | Wait | Inspect | Recover | StopContainer | GiveUp | Missing


def decide(seen: Observation, limits: Limits, container_name: str = "the container") -> Action:
    """The next action for what was observed (see the module docstring)."""
    if seen.status is None:
        return Missing()
    if states.is_final(seen.status):
        return Finish(seen.status)
    if seen.container is not None and not seen.container.running:
        return _stopped(seen, seen.container, container_name)
    if limits.deadline is not None and seen.now >= limits.deadline:
        return GiveUp("execution_timeout", "the task ran past its execution_timeout")
    if seen.cancel_requested_at is not None and not seen.stopping:
        waited = seen.now - seen.cancel_requested_at
        if waited >= limits.cancel_grace:
            return StopContainer(f"cancel requested {waited:.0f}s ago and {container_name} "
                                 "still runs: stopping it")
    limit = limits.heartbeat_timeout if seen.beating else limits.startup_timeout
    silence = seen.silence
    if silence < limit:
        return Wait(_bounded_wait(limit - silence, seen, limits))
    if seen.container is None:
        return Inspect()
    if silence >= limit + limits.silent_running_timeout:
        return GiveUp("silent", f"container running but silent for {silence:.0f}s")
    warn = f"No heartbeat for {silence:.0f}s, but container {container_name} is running"
    return Wait(_bounded_wait(limits.heartbeat_timeout, seen, limits), warn=warn)


def _stopped(seen: Observation, container: ContainerState, name: str) -> Recover:
    """The container stopped while the execution is not final."""
    if seen.cancel_requested_at is not None:
        code = f" (exit code {container.exit_code})" if container.exit_code is not None else ""
        return Recover(f"cancelled: {name} stopped after a cancel request{code}",
                       container.exit_code, states.CANCELLED)
    return Recover(lost_message(name, container, seen.silence, seen.beating),
                   container.exit_code)


def _bounded_wait(wanted: float, seen: Observation, limits: Limits) -> float:
    wait = min(wanted, limits.log_interval)
    if limits.deadline is not None:
        wait = min(wait, max(limits.deadline - seen.now, 0.0))
    if seen.cancel_requested_at is not None and not seen.stopping:
        wait = min(wait, max(seen.cancel_requested_at + limits.cancel_grace - seen.now, 0.0))
    return max(wait, MIN_WAIT)


def lost_message(name: str, container: ContainerState, silence: float,
                 beating: bool = True) -> str:
    """Why an execution is lost, naming the container, its state and exit code."""
    if not container.exists:
        reason = f"container {name} does not exist"
    else:
        reason = f"container {name} is {container.status}"
        if container.exit_code is not None:
            oom = ", OOM killed" if container.oom_killed else ""
            reason += f" (exit code {container.exit_code}{oom})"
        if container.error:
            reason += f": {container.error}"
    heard = (f"last heartbeat {silence:.0f}s ago" if beating
             else f"no heartbeat in the {silence:.0f}s since registration")
    return f"lost: {reason} without reporting its outcome ({heard})"


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
