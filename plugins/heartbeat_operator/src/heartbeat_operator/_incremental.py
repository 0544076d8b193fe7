"""The incremental state a task hands to its next run, as kept in an Airflow Variable.

Stored as ``{"state": <value>}``, not as the bare value: Airflow masks every Variable it
hands a task, and its secrets masker skips any value shorter than ``[logging]
min_length_masked_secret`` (5) characters, warning "Skipping masking for a secret as
it's too short", before it asks whether the key is sensitive at all. A bare state such
as ``12`` put that warning into every incremental run's log although it is no secret;
wrapped, it is long enough to be looked at, and its key is not a sensitive name, so
nothing is masked or warned. Bare values written by earlier versions still read.
"""

from __future__ import annotations

import json
from typing import Any

STATE_KEY = "state"


def encode(state: Any) -> str:
    return json.dumps({STATE_KEY: state})


def decode(stored: str) -> Any:
    value = json.loads(stored)
    if isinstance(value, dict) and set(value) == {STATE_KEY}:
        return value[STATE_KEY]
    return value  # written before the state was wrapped
