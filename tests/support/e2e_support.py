"""Helpers of the end-to-end tests: the heartbeat API's admin client, polling, the
stack's components and the testing image's config."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import paramiko
from airflow_rest import AirflowRest
from heartbeat_contract import http

ROOT = Path(__file__).resolve().parents[2]
STATE = ROOT / ".testbed"


def wait_until(what: str, check: Callable[[], Any], timeout: float, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} not true after {timeout:.0f}s")
        time.sleep(interval)


class HeartbeatApi:
    def __init__(self) -> None:
        secrets = json.loads((STATE / "secrets.json").read_text())
        self.client = httpx.Client(
            base_url="http://127.0.0.1:8000",
            headers={"Authorization": f"Bearer {secrets['heartbeat_admin_token']}"},
            timeout=10,
        )

    def status(self, execution_id: str) -> dict[str, Any] | None:
        response = self.client.get(http.path(http.EXECUTION_STATUS, execution_id))
        if response.status_code == 404:
            return None
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def cancel(self, execution_id: str) -> dict[str, Any]:
        response = self.client.post(http.path(http.EXECUTION_CANCEL, execution_id))
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def history(self, execution_id: str) -> dict[str, Any]:
        response = self.client.get(http.path(http.HEARTBEAT_HISTORY, execution_id))
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body


def remote_exists(sftp: paramiko.SFTPClient, path: str) -> bool:
    try:
        sftp.stat(path)
        return True
    except FileNotFoundError:
        return False


def stack(action: str, component: str) -> None:
    subprocess.run([str(ROOT / ".venv" / "bin" / "python"), str(ROOT / "scripts" / "stack.py"),
                    action, component], check=True, cwd=ROOT)


def custom_config(**custom: Any) -> dict[str, Any]:
    return {
        "config": {
            "task_name": "e2e",
            "task_type": "custom",
            "docker_image": "data-collection-testing:latest",
            "custom_config": custom,
        }
    }


def start(airflow: AirflowRest, heartbeat_api: HeartbeatApi, dag_id: str = "e2e_custom",
          **custom: Any) -> tuple[str, str]:
    """Trigger a run and wait until its container is running and beating."""
    run_id = airflow.trigger(dag_id, custom_config(**custom))
    airflow.wait_for_task_state(dag_id, run_id, {"deferred"}, timeout=120)
    execution_id = airflow.xcom(dag_id, run_id, key="execution_id")
    # A trigger a triggerer has not claimed yet cannot be killed by a user action.
    wait_until("trigger claimed by a triggerer", lambda: (airflow.task_instance(
        dag_id, run_id).get("trigger") or {}).get("triggerer_id"), 60)
    wait_until("first heartbeat", lambda: (heartbeat_api.status(execution_id) or {}).get(
        "status") == "running", 60)
    return run_id, execution_id
