"""The process refuses to start without its secrets, and says which are missing."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hbapi_helpers import api_env, free_port

pytestmark = pytest.mark.integration


def start(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "heartbeat_api", "--host", "127.0.0.1", "--port", str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_refuses_to_start_without_secret_and_admin_token() -> None:
    env = api_env("redis://127.0.0.1:6379/9")
    del env["HEARTBEAT_SECRET"], env["HEARTBEAT_ADMIN_TOKEN"]
    result = start(env)
    assert result.returncode == 2
    assert "HEARTBEAT_SECRET is not set" in result.stderr
    assert "HEARTBEAT_ADMIN_TOKEN is not set" in result.stderr
    assert "Uvicorn running" not in result.stderr + result.stdout


def test_refuses_a_placeholder_or_short_secret_without_echoing_it() -> None:
    env = api_env("redis://127.0.0.1:6379/9", HEARTBEAT_SECRET="changeme")
    result = start(env)
    assert result.returncode == 2
    assert "HEARTBEAT_SECRET" in result.stderr and "changeme" not in result.stderr
    env = api_env("redis://127.0.0.1:6379/9", HEARTBEAT_ADMIN_TOKEN="tiny-value")
    result = start(env)
    assert result.returncode == 2
    assert "HEARTBEAT_ADMIN_TOKEN" in result.stderr and "16" in result.stderr
    assert "tiny-value" not in result.stderr
