"""Shared bits of the api task tests: configs against the mock, and the secret check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from api_mock_server import (
    API_KEY,
    BASIC_PASSWORD,
    BEARER_TOKEN,
    CLIENT_SECRET,
    SECRETS,
    MockApi,
)

SECRET_ENV = {
    "API_TOKEN": BEARER_TOKEN,
    "API_KEY": API_KEY,
    "API_PASSWORD": BASIC_PASSWORD,
    "OAUTH_CLIENT_SECRET": CLIENT_SECRET,
}


def config(api: MockApi, out_dir: Path, kind: str = "page", **api_config: Any) -> dict[str, Any]:
    return {
        "task_name": "api test",
        "task_type": "api",
        "docker_image": "data-collection-api:latest",
        "storage_config": {"output_path": str(out_dir), "filename_prefix": "items"},
        "api_config": {
            "base_url": api.url,
            "endpoint": f"/items/{kind}",
            "records_path": "$.data",
            "retry": {"max_attempts": 4, "backoff_factor": 0.01},
            **api_config,
        },
    }


def read_output(out_dir: Path, result: dict[str, Any]) -> list[Any]:
    (name,) = result["output_files"]
    text = (out_dir / name).read_text()
    if name.endswith(".jsonl"):
        return [json.loads(line) for line in text.splitlines()]
    records = json.loads(text)
    assert isinstance(records, list)
    return records


def assert_no_secrets(caplog: pytest.LogCaptureFixture, out_dir: Path, *texts: object) -> None:
    """No secret in any log line (message and traceback), output file or given text."""
    haystacks = [r.getMessage() for r in caplog.records]
    haystacks += [caplog.text]
    haystacks += [p.read_text() for p in out_dir.iterdir()] if out_dir.exists() else []
    haystacks += [json.dumps(t, default=str) if not isinstance(t, str) else t for t in texts]
    for secret in SECRETS:
        for text in haystacks:
            assert secret not in text


class Progress:
    """Records what the collector reports (a heartbeat_client.Reporter)."""

    def __init__(self) -> None:
        self.reports: list[dict[str, Any]] = []

    def __call__(self, progress: dict[str, Any]) -> None:
        self.reports.append(dict(progress))

    def stages(self) -> set[str]:
        return {p.get("stage", "") for p in self.reports}
