"""Fixtures of the SDK's integration tests: the real heartbeat API on real Redis."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sdk_live_api import LiveApi


@pytest.fixture(scope="module")
def live_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    api = LiveApi(tmp_path_factory.mktemp("heartbeat-api") / "api.log")
    yield api
    api.close()
