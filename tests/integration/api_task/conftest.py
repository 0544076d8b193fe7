from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from api_mock_server import MockApi, serve
from api_task_helpers import Progress


@pytest.fixture
async def mock_api() -> AsyncIterator[MockApi]:
    api = MockApi()
    runner = await serve(api)
    try:
        yield api
    finally:
        await runner.cleanup()


@pytest.fixture
def progress() -> Progress:
    return Progress()


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG)
    return caplog


@pytest.fixture
def out_dir(tmp_path: Path) -> Path:
    return tmp_path / "output"
