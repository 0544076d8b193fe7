"""The real heartbeat API as a subprocess on real Redis, with admin helpers."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

import httpx
from heartbeat_servers import free_port, running_heartbeat_api, wait_until

REDIS_URL = "redis://127.0.0.1:6379/11"  # this part's own database on the shared Redis
ADMIN_TOKEN = "sdk-integration-admin-token-0123456789"
SECRET = "sdk-integration-secret-0123456789"
REPO_ROOT = Path(__file__).resolve().parents[2]
PYTHON = str(REPO_ROOT / ".venv" / "bin" / "python")


class LiveApi:
    """``python -m heartbeat_api`` on a free port; ``close()`` stops it."""

    def __init__(self, log_path: Path) -> None:
        self._running = contextlib.ExitStack()
        server = self._running.enter_context(
            running_heartbeat_api(
                REDIS_URL, secret=SECRET, admin_token=ADMIN_TOKEN, log_path=log_path
            )
        )
        self.process = server.process
        self.url = server.base_url
        self.admin = self._running.enter_context(
            httpx.Client(
                base_url=self.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10
            )
        )

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
        self._running.close()


def task_env(api_url: str, execution_id: str, token: str, output_dir: Path) -> dict[str, str]:
    """the container environment (docs/contracts/environment.md) for a task subprocess."""
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
