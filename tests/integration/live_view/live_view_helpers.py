"""The real heartbeat API on a free port, and executions driven by the real SDK."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from heartbeat_client import HeartbeatClient
from playwright.sync_api import Page

ADMIN_TOKEN = "live-view-admin-token-0123456789"
VIEWER_TOKEN = "live-view-viewer-token-0123456789"
SECRET = "live-view-signing-secret-0123456789"
REDIS_URL = "redis://127.0.0.1:6379/13"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Api:
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def admin(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url, timeout=10, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
        )


@contextlib.contextmanager
def running_api() -> Iterator[Api]:
    port = free_port()
    log_path = Path(tempfile.mkdtemp(prefix="live-view-api-")) / "server.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTBEAT_")}
    env.update(
        HEARTBEAT_REDIS_URL=REDIS_URL,
        HEARTBEAT_SECRET=SECRET,
        HEARTBEAT_ADMIN_TOKEN=ADMIN_TOKEN,
        HEARTBEAT_UI_VIEWER_TOKEN=VIEWER_TOKEN,
        HEARTBEAT_UI_KEEPALIVE_SECONDS="2",
    )
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "heartbeat_api", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    api = Api(f"http://127.0.0.1:{port}", process, log_path)
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"heartbeat API exited: {log_path.read_text()[-2000:]}")
            try:
                if httpx.get(f"{api.base_url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"heartbeat API never became healthy: {log_path}")
            time.sleep(0.1)  # polling a process that has no readiness signal
        yield api
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


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
