"""Fixtures of the SDK's unit tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sdk_fake_api import FakeApi


@pytest.fixture
def fake_api() -> Iterator[FakeApi]:
    api = FakeApi()
    yield api
    api.close()
