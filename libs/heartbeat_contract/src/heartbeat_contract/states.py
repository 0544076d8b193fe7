"""Execution states (docs/contracts/states.md).

``pending`` -> ``running`` -> ``completed`` | ``failed`` | ``cancelled`` | ``lost``.
A final state is final: nothing changes it again.
"""

from __future__ import annotations

from typing import Literal

PENDING = "pending"
RUNNING = "running"
COMPLETED = "completed"
FAILED = "failed"
CANCELLED = "cancelled"
LOST = "lost"

ExecutionStatus = Literal["pending", "running", "completed", "failed", "cancelled", "lost"]
ReportedStatus = Literal["completed", "failed", "cancelled"]

ALL_STATES: tuple[str, ...] = (PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, LOST)
ACTIVE_STATES: frozenset[str] = frozenset({PENDING, RUNNING})
FINAL_STATES: frozenset[str] = frozenset({COMPLETED, FAILED, CANCELLED, LOST})
# What a container may report as its own outcome; ``lost`` is only ever decided outside.
REPORTED_STATES: tuple[str, ...] = (COMPLETED, FAILED, CANCELLED)


def is_final(status: str) -> bool:
    return status in FINAL_STATES


def reported_status(success: bool | None, status: str | None) -> str:
    """The outcome a completion stands for: its ``status``, else ``success`` decides."""
    if status:
        return status
    return COMPLETED if success else FAILED
