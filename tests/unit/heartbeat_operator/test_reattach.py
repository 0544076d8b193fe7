"""Reattach on retry (heartbeat_operator._reattach): which earlier try a retry watches
instead of starting over, and what it records."""

from __future__ import annotations

from typing import Any

import pytest
from heartbeat_contract import states
from heartbeat_operator._docker_api import ContainerState
from heartbeat_operator._reattach import Attempt, retry_follows, verdict, watch_key

EXECUTION = "0d9d4c2e-5a4b-4c2e-9f0e-6a1b2c3d4e5f"
ATTEMPT = Attempt(execution_id=EXECUTION, ssh_conn_id="execution_host",
                  container_name=f"task-{EXECUTION}",
                  config_dir=f"/tmp/task_configs/{EXECUTION}",
                  completion_file=f"/tmp/task_outputs/{EXECUTION}/_completion.json",
                  try_number=1)
RUNNING = ContainerState(exists=True, running=True, status="running")


def test_an_attempt_round_trips_through_the_task_state_store() -> None:
    assert Attempt.from_json(ATTEMPT.to_json()) == ATTEMPT


@pytest.mark.parametrize(("value", "error"), [
    ("not a dict", "not an object"),
    ({"execution_id": EXECUTION}, "lacks"),
    (ATTEMPT.to_json() | {"execution_id": "../../etc"}, "not a lowercase UUID"),
    (ATTEMPT.to_json() | {"container_name": "task-other"}, "another execution's container"),
    (ATTEMPT.to_json() | {"try_number": "x"}, "invalid literal"),
])
def test_a_stored_value_that_is_not_an_attempt_is_refused(value: Any, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        Attempt.from_json(value)


@pytest.mark.parametrize("status", [states.PENDING, states.RUNNING])
def test_a_live_execution_whose_container_runs_is_reattached(status: str) -> None:
    found = verdict(ATTEMPT, status, RUNNING)
    assert found.reattach and found.end_as is None
    assert f"container task-{EXECUTION} still runs on execution_host" in found.reason


@pytest.mark.parametrize("final", sorted(states.FINAL_STATES))
def test_a_final_execution_is_never_reattached(final: str) -> None:
    """Failed, cancelled (mark failed, clear, a cancel request) and lost tries start
    over, whatever their container does."""
    found = verdict(ATTEMPT, final, RUNNING)
    assert not found.reattach and found.end_as is None
    assert found.reason.endswith(f"ended {final}")


def test_an_execution_gone_from_redis_starts_over() -> None:
    assert not verdict(ATTEMPT, None, RUNNING).reattach


@pytest.mark.parametrize("container", [
    None, ContainerState(exists=False), ContainerState(exists=True, status="exited")])
def test_a_live_execution_without_a_running_container_is_ended_lost(
        container: ContainerState | None) -> None:
    found = verdict(ATTEMPT, states.RUNNING, container)
    assert not found.reattach
    assert found.end_as == states.LOST


def test_a_retry_follows_only_while_tries_remain_and_reattach_is_on() -> None:
    assert retry_follows(True, 1, 1)
    assert not retry_follows(True, 2, 1)
    assert not retry_follows(False, 1, 3)


def test_an_earlier_try_still_watching_means_a_user_cleared_it_no_reattach() -> None:
    """Regression: clearing a deferred task started its next try within a second, and
    that try reattached to the container the user had just asked to stop."""
    found = verdict(ATTEMPT, states.RUNNING, RUNNING, watched_by_try=1)
    assert not found.reattach and found.end_as is None
    assert "still watched by try 1" in found.reason


def test_the_watch_key_names_the_task_instance_not_the_try() -> None:
    assert watch_key("d", "r", "t", -1) == "d:r:t:-1"
    assert watch_key("d", "r", "t", 3) != watch_key("d", "r", "t", 4)
