"""The heartbeat API's paths (heartbeat_contract.http)."""

from __future__ import annotations

import pytest
from heartbeat_contract import http


def test_paths_fill_in_and_encode_the_execution_id() -> None:
    assert http.path(http.EXECUTION_STATUS, "e-1") == "/api/v1/task/execution/e-1/status"
    assert http.path(http.EXECUTION_CANCEL, "a/b c") == (
        "/api/v1/monitoring/executions/a%2Fb%20c/cancel")


def test_every_monitoring_path_is_below_its_prefix() -> None:
    for full in (http.EXECUTIONS, http.EXECUTION_CANCEL, http.HEARTBEAT,
                 http.HEARTBEAT_HISTORY, http.COMPLETION):
        assert http.MONITORING_PREFIX + http.relative(full, http.MONITORING_PREFIX) == full


def test_relative_refuses_a_path_outside_the_prefix() -> None:
    with pytest.raises(ValueError, match="is not below"):
        http.relative(http.HEALTH, http.MONITORING_PREFIX)
