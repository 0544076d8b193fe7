from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from api_mock_server import MockApi, serve


@pytest.fixture
async def mock_api() -> AsyncIterator[MockApi]:
    api = MockApi()
    runner = await serve(api)
    try:
        yield api
    finally:
        await runner.cleanup()


class Progress:
    """Records what the collector reports, as the SDK would receive it."""

    def __init__(self) -> None:
        self.reports: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, status: str, progress: dict[str, Any]) -> None:
        self.reports.append((status, dict(progress)))

    def stages(self) -> set[str]:
        return {p.get("stage", "") for _, p in self.reports}


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
