"""Execution states (heartbeat_contract.states)."""

from __future__ import annotations

import typing

from heartbeat_contract import states


def test_every_state_is_active_or_final_and_never_both() -> None:
    assert set(states.ALL_STATES) == states.ACTIVE_STATES | states.FINAL_STATES
    assert not states.ACTIVE_STATES & states.FINAL_STATES


def test_a_container_reports_only_final_states_and_never_lost() -> None:
    assert set(states.REPORTED_STATES) <= states.FINAL_STATES
    assert states.LOST not in states.REPORTED_STATES


def test_the_literal_types_match_the_constants() -> None:
    assert set(typing.get_args(states.ExecutionStatus)) == set(states.ALL_STATES)
    assert set(typing.get_args(states.ReportedStatus)) == set(states.REPORTED_STATES)
