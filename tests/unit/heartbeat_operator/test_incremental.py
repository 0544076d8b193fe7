"""The incremental state's Variable: wrapped so Airflow's secrets masker has nothing to
warn about, and earlier bare values still read."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from airflow.sdk import Variable
from airflow.sdk._shared.secrets_masker import secrets_masker
from heartbeat_operator import _incremental

KEY = "heartbeat_state__unit_dag__collect"
MASKER_LOGGER = "airflow.sdk._shared.secrets_masker.secrets_masker"


@pytest.mark.parametrize("state", [12, "b.csv", None, {"id": 3}, [1, 2]])
def test_round_trip(state: Any) -> None:
    assert _incremental.decode(_incremental.encode(state)) == state


@pytest.mark.parametrize(("stored", "state"), [("12", 12), ('"b.csv"', "b.csv"),
                                              ('{"id": 3}', {"id": 3})])
def test_bare_values_of_earlier_versions_still_read(stored: str, state: Any) -> None:
    assert _incremental.decode(stored) == state


@pytest.fixture()
def fresh_masker_warning(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # The masker warns once per process; let this test see its own read.
    monkeypatch.setattr(secrets_masker.SecretsMasker, "_has_warned_short_secret", False)
    yield


@pytest.mark.parametrize(("stored", "warned"), [("12", True), (_incremental.encode(12), False)])
def test_reading_the_state_warns_only_about_a_bare_short_value(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
    fresh_masker_warning: None, stored: str, warned: bool,
) -> None:
    """Regression: a bare state `12` made every incremental run's log say "Skipping
    masking for a secret as it's too short" (Variable.get masks every value)."""
    monkeypatch.setenv(f"AIRFLOW_VAR_{KEY.upper()}", stored)
    with caplog.at_level("WARNING", logger=MASKER_LOGGER):
        value = Variable.get(KEY)
    assert _incremental.decode(value) == 12
    messages = [r.getMessage() for r in caplog.records if r.name == MASKER_LOGGER]
    assert bool([m for m in messages if "too short" in m]) is warned, messages
