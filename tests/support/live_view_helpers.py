"""The real heartbeat API on a free port, and executions driven by the real SDK."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from heartbeat_client import HeartbeatClient
from heartbeat_servers import HeartbeatApiProcess, running_heartbeat_api
from playwright.sync_api import Page

ADMIN_TOKEN = "live-view-admin-token-0123456789"
VIEWER_TOKEN = "live-view-viewer-token-0123456789"
SECRET = "live-view-signing-secret-0123456789"
REDIS_URL = "redis://127.0.0.1:6379/13"


class Api(HeartbeatApiProcess):
    def admin(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url, timeout=10, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
        )


@contextlib.contextmanager
def running_api() -> Iterator[Api]:
    with running_heartbeat_api(
        REDIS_URL,
        secret=SECRET,
        admin_token=ADMIN_TOKEN,
        HEARTBEAT_UI_VIEWER_TOKEN=VIEWER_TOKEN,
        HEARTBEAT_UI_KEEPALIVE_SECONDS="2",
    ) as server:
        yield Api(server.base_url, server.process, server.log_path)


@dataclass
class Execution:
    execution_id: str
    token: str
    client: HeartbeatClient

    def beat(self, progress: dict[str, Any], status: str = "running") -> None:
        """Progress now, and wait until the SDK has sent it."""
        self.client.update_status(status, progress)
        assert self.client.flush(10), f"heartbeat of {self.execution_id} not sent"


def start_execution(
    api: Api,
    output_dir: Path,
    *,
    dag_id: str,
    task_id: str = "collect",
    interval: float = 5.0,
    progress: dict[str, Any] | None = None,
) -> Execution:
    """Registered with the admin token, then beating through the SDK's own thread."""
    with api.admin() as http:
        response = http.post(
            "/api/v1/monitoring/executions",
            json={"dag_id": dag_id, "task_id": task_id, "run_id": f"manual__{dag_id}"},
        )
    assert response.status_code == 201, response.text
    body = response.json()
    execution_id = body["execution_id"]
    client = HeartbeatClient(
        api.base_url,
        execution_id,
        f"task-{execution_id}",
        interval,
        token=body["token"],
        output_dir=str(output_dir / execution_id),
        handle_signals=False,
    )
    client.start()
    execution = Execution(execution_id, body["token"], client)
    if progress is not None:
        execution.beat(progress)
    return execution


def log_in(page: Page, token: str = ADMIN_TOKEN, target: str = "/ui") -> None:
    page.goto(target)
    page.fill("#token", token)
    page.click("button[type=submit]")
