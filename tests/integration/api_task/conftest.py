from __future__ import annotations

import sys
from pathlib import Path

# Helpers shared by several parts' integration tests; tests/ is not a package.
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "support"))

import logging
from collections.abc import AsyncIterator

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
