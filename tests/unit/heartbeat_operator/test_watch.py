"""The watch's decisions (heartbeat_operator._watch), case by case, with no I/O."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from heartbeat_contract import states
from heartbeat_operator._docker_api import ContainerState
from heartbeat_operator._watch import (
    MIN_WAIT,
    Finish,
    GiveUp,
    Inspect,
    Limits,
    Missing,
    Observation,
    Recover,
    StopContainer,
    Wait,
    decide,
    lost_message,
    retry_delay,
    should_log,
)

LIMITS = Limits(heartbeat_timeout=30, startup_timeout=120, silent_running_timeout=300,
                log_interval=5)
T0 = 1_000_000.0
RUNNING = ContainerState(exists=True, running=True, status="running")
EXITED = ContainerState(exists=True, running=False, status="exited", exit_code=137)
OOM = ContainerState(exists=True, running=False, status="exited", exit_code=137,
                     oom_killed=True)
GONE = ContainerState(exists=False)


class Seen(Observation):
    """An Observation that `| {"cancel": at, "stopping": bool}` extends."""

    def __or__(self, more: dict[str, Any]) -> Observation:
        return replace(self, cancel_requested_at=more.get("cancel"),
                       stopping=more.get("stopping", False))


def seen(*, now: float, status: str | None = states.RUNNING, beat: float | None = None,
         created: float = T0, container: ContainerState | None = None) -> Seen:
    return Seen(now=now, status=status, created_at=created, last_heartbeat_at=beat,
                container=container)


def test_an_execution_missing_in_redis_cannot_be_watched() -> None:
    assert decide(seen(now=T0, status=None), LIMITS) == Missing()


@pytest.mark.parametrize("final", sorted(states.FINAL_STATES))
def test_a_final_state_ends_the_watch_with_it(final: str) -> None:
    # Even past the deadline and long silent: the stored outcome wins.
    limits = Limits(deadline=T0)
    assert decide(seen(now=T0 + 10_000, status=final), limits) == Finish(final)


def test_a_fresh_heartbeat_waits_at_most_the_log_interval() -> None:
    action = decide(seen(now=T0 + 10, beat=T0 + 8), LIMITS)
    assert action == Wait(5)


def test_the_wait_ends_when_the_heartbeat_becomes_overdue() -> None:
    action = decide(seen(now=T0 + 28, beat=T0), LIMITS)
    assert isinstance(action, Wait) and action.seconds == pytest.approx(2)


def test_before_the_first_heartbeat_the_startup_timeout_applies() -> None:
    # 60 s after registration with no heartbeat: still inside the 120 s startup timeout.
    assert isinstance(decide(seen(now=T0 + 60, status=states.PENDING), LIMITS), Wait)
    assert decide(seen(now=T0 + 120, status=states.PENDING), LIMITS) == Inspect()


def test_an_overdue_heartbeat_asks_docker_first() -> None:
    assert decide(seen(now=T0 + 31, beat=T0), LIMITS) == Inspect()


def test_a_stopped_container_is_recovered_or_lost_with_its_exit_code() -> None:
    action = decide(seen(now=T0 + 31, beat=T0, container=EXITED), LIMITS, "task-x")
    assert isinstance(action, Recover)
    assert action.exit_code == 137
    assert action.status == states.LOST
    assert action.message == ("lost: container task-x is exited (exit code 137) without "
                              "reporting its outcome (last heartbeat 31s ago)")


def test_a_container_docker_saw_stop_ends_the_watch_at_once() -> None:
    """Regression: a killed container was noticed only when the heartbeat timeout ran
    out (32 s after `docker kill`); Docker's word now ends the watch straight away."""
    action = decide(seen(now=T0 + 2, beat=T0 + 1, container=EXITED), LIMITS, "task-x")
    assert isinstance(action, Recover) and action.exit_code == 137
    started = decide(seen(now=T0 + 1, status=states.PENDING, container=EXITED), LIMITS)
    assert isinstance(started, Recover)
    assert "no heartbeat in the 1s since registration" in started.message


def test_a_final_state_wins_over_a_stopped_container() -> None:
    assert decide(seen(now=T0 + 2, status=states.COMPLETED, container=EXITED),
                  LIMITS) == Finish(states.COMPLETED)


def test_the_lost_message_says_oom_and_missing_containers() -> None:
    assert "(exit code 137, OOM killed)" in lost_message("task-x", OOM, 40)
    assert "container task-x does not exist" in lost_message("task-x", GONE, 40)
    assert decide(seen(now=T0 + 40, beat=T0, container=GONE), LIMITS) == Recover(
        lost_message("the container", GONE, 40), None)
    errored = ContainerState(exists=True, status="exited", exit_code=1, error="oci error")
    assert lost_message("task-x", errored, 1).endswith(
        "(exit code 1): oci error without reporting its outcome (last heartbeat 1s ago)")


def test_a_cancel_request_gets_its_grace_then_docker_stop() -> None:
    limits = Limits(cancel_grace=10, log_interval=5)
    asked = T0 + 100
    early = decide(seen(now=asked + 8, beat=asked + 7) | {"cancel": asked}, limits)
    assert isinstance(early, Wait) and early.seconds == pytest.approx(2)
    late = decide(seen(now=asked + 10, beat=asked + 9) | {"cancel": asked}, limits, "task-x")
    assert isinstance(late, StopContainer) and "task-x" in late.message
    sent = decide(seen(now=asked + 15, beat=asked + 9) | {"cancel": asked, "stopping": True},
                  limits)
    assert isinstance(sent, Wait)


def test_a_container_stopped_after_a_cancel_request_is_cancelled_not_lost() -> None:
    action = decide(seen(now=T0 + 20, beat=T0 + 19, container=EXITED) | {"cancel": T0 + 5},
                    LIMITS, "task-x")
    assert isinstance(action, Recover)
    assert action.status == states.CANCELLED
    assert action.message == "cancelled: task-x stopped after a cancel request (exit code 137)"


def test_a_running_but_silent_container_is_tolerated_then_given_up() -> None:
    tolerated = decide(seen(now=T0 + 100, beat=T0, container=RUNNING), LIMITS, "task-x")
    assert isinstance(tolerated, Wait)
    assert tolerated.warn is not None and "task-x is running" in tolerated.warn
    given_up = decide(seen(now=T0 + 330, beat=T0, container=RUNNING), LIMITS)
    assert given_up == GiveUp("silent", "container running but silent for 330s")


def test_the_deadline_stops_the_task_even_while_it_beats() -> None:
    limits = Limits(deadline=T0 + 50)
    action = decide(seen(now=T0 + 50, beat=T0 + 49), limits)
    assert action == GiveUp("execution_timeout", "the task ran past its execution_timeout")


def test_no_wait_runs_past_the_deadline() -> None:
    limits = Limits(deadline=T0 + 2, log_interval=5)
    action = decide(seen(now=T0 + 1, beat=T0 + 1), limits)
    assert isinstance(action, Wait) and action.seconds == pytest.approx(1)


def test_a_wait_is_never_shorter_than_the_floor() -> None:
    limits = Limits(deadline=T0 + 0.001)
    action = decide(seen(now=T0, beat=T0), limits)
    assert action == Wait(MIN_WAIT)


def test_a_resumed_trigger_counts_from_the_stored_heartbeat_not_from_its_start() -> None:
    """A triggerer restarted 40 s after the last heartbeat asks Docker at once instead
    of granting a fresh 30 s."""
    assert decide(seen(now=T0 + 40, beat=T0), LIMITS) == Inspect()


def test_a_clock_behind_the_stored_heartbeat_counts_as_no_silence() -> None:
    observation = seen(now=T0, beat=T0 + 5)
    assert observation.silence == 0
    assert isinstance(decide(observation, LIMITS), Wait)


def test_retries_back_off_up_to_a_cap_and_stop_at_the_budget() -> None:
    delays = [retry_delay(attempt, 0.0, 300) for attempt in range(1, 8)]
    assert delays == [0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 15.0]
    assert retry_delay(1000, 10.0, 300) == 15.0
    assert retry_delay(3, 300.0, 300) == 2.0
    assert retry_delay(3, 300.1, 300) is None


def test_status_lines_are_logged_once_per_interval() -> None:
    assert should_log(T0 + 5, T0, LIMITS)
    assert not should_log(T0 + 4.9, T0, LIMITS)
