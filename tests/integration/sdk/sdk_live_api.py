"""The real heartbeat API as a subprocess on real Redis, with admin helpers."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

REDIS_URL = "redis://127.0.0.1:6379/11"  # this part's own database on the shared Redis
ADMIN_TOKEN = "sdk-integration-admin-token-0123456789"
SECRET = "sdk-integration-secret-0123456789"
REPO_ROOT = Path(__file__).resolve().parents[3]
PYTHON = str(REPO_ROOT / ".venv" / "bin" / "python")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


class LiveApi:
    """``python -m heartbeat_api`` on a free port; ``close()`` stops it."""

    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "HEARTBEAT_SECRET": SECRET,
            "HEARTBEAT_ADMIN_TOKEN": ADMIN_TOKEN,
            "HEARTBEAT_REDIS_URL": REDIS_URL,
        }
        self._log = log_path.open("wb")
        self.process = subprocess.Popen(
            [PYTHON, "-m", "heartbeat_api", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.admin = httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10
        )
        wait_until(self._healthy, 30, f"the heartbeat API on {self.url} (log: {log_path})")

    def _healthy(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"heartbeat API exited with {self.process.returncode}")
        try:
            return self.admin.get("/healthz").json().get("redis") == "ok"
        except httpx.HTTPError:
            return False

    def register(self) -> tuple[str, str]:
        """A new execution: its id and its execution token."""
        answer = self.admin.post("/api/v1/monitoring/executions", json={})
        assert answer.status_code == 201, answer.text
        body = answer.json()
        return str(body["execution_id"]), str(body["token"])

    def status(self, execution_id: str) -> dict[str, Any]:
        answer = self.admin.get(f"/api/v1/task/execution/{execution_id}/status")
        assert answer.status_code == 200, answer.text
        return dict(answer.json())

    def history(self, execution_id: str) -> list[dict[str, Any]]:
        answer = self.admin.get(
            f"/api/v1/monitoring/heartbeat/{execution_id}", params={"count": 1000}
        )
        assert answer.status_code == 200, answer.text
        return list(answer.json()["history"])

    def cancel(self, execution_id: str) -> None:
        answer = self.admin.post(f"/api/v1/monitoring/executions/{execution_id}/cancel")
        assert answer.status_code in (200, 202), answer.text

    def final_transitions(self, execution_id: str) -> list[str]:
        """Final states recorded for the execution, from both its transitions and its log."""
        finals = {"completed", "failed", "cancelled", "lost"}
        transitions = [t["status"] for t in self.status(execution_id)["transitions"]]
        logged = [
            event["detail"]["to"]
            for event in self.history(execution_id)
            if event["type"] == "state" and event["detail"].get("to") in finals
        ]
        assert [t for t in transitions if t in finals] == logged
        return logged

    def close(self) -> None:
        self.admin.close()
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self._log.close()


def task_env(api_url: str, execution_id: str, token: str, output_dir: Path) -> dict[str, str]:
    """Contract 1's environment for a task subprocess."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "TASK_EXECUTION_ID": execution_id,
        "HOSTNAME": f"task-{execution_id}",
        "API_BASE_URL": api_url,
        "HEARTBEAT_TOKEN": token,
        "HEARTBEAT_INTERVAL": "1",
        "OUTPUT_DIR": str(output_dir),
        "PYTHONUNBUFFERED": "1",
    }


__all__ = ["PYTHON", "REPO_ROOT", "LiveApi", "free_port", "task_env", "wait_until"]
