"""Fixtures of the heartbeat_client unit tests: two fake heartbeat APIs on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from heartbeat_client_fake_api import RecordingApi
from sdk_fake_api import FakeApi


@pytest.fixture
def fake_api() -> Iterator[FakeApi]:
    api = FakeApi()
    yield api
    api.close()


@pytest.fixture
def recording_api() -> Iterator[RecordingApi]:
    api = RecordingApi()
    yield api
    api.close()
