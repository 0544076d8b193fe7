"""Fixtures of the heartbeat_client unit tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from heartbeat_client_fake_api import RecordingApi


@pytest.fixture
def recording_api() -> Iterator[RecordingApi]:
    api = RecordingApi()
    yield api
    api.close()
