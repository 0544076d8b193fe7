"""Fixtures of the end-to-end tests: the real stack started by `make services`
(Airflow API server, scheduler, dag-processor and triggerer, the heartbeat API,
Redis, the SSH execution host and its Docker engine)."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import docker
import httpx
import paramiko
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

from airflow_rest import AirflowRest  # noqa: E402

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


@pytest.fixture(scope="session")
def airflow() -> AirflowRest:
    try:
        client = AirflowRest()
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"the stack is not running (make services): {exc}")
    for dag_id in ("e2e_custom", "e2e_retry"):
        client.wait_for_dag(dag_id)
    return client


class HeartbeatApi:
    def __init__(self) -> None:
        secrets = json.loads((STATE / "secrets.json").read_text())
        self.client = httpx.Client(
            base_url="http://127.0.0.1:8000",
            headers={"Authorization": f"Bearer {secrets['heartbeat_admin_token']}"},
            timeout=10,
        )

    def status(self, execution_id: str) -> dict[str, Any] | None:
        response = self.client.get(f"/api/v1/task/execution/{execution_id}/status")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body

    def history(self, execution_id: str) -> dict[str, Any]:
        response = self.client.get(f"/api/v1/monitoring/heartbeat/{execution_id}")
        response.raise_for_status()
        body: dict[str, Any] = response.json()
        return body


@pytest.fixture(scope="session")
def heartbeat_api() -> Iterator[HeartbeatApi]:
    api = HeartbeatApi()
    yield api
    api.client.close()


@pytest.fixture(scope="session")
def docker_engine() -> Iterator[docker.DockerClient]:
    client = docker.from_env()
    yield client
    client.close()


@pytest.fixture(scope="session")
def sftp() -> Iterator[paramiko.SFTPClient]:
    ssh_dir = STATE / "ssh"
    client = paramiko.SSHClient()
    client.load_host_keys(str(ssh_dir / "known_hosts"))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.connect("127.0.0.1", port=2222, username="root",
                   key_filename=str(ssh_dir / "id_ed25519"), look_for_keys=False,
                   allow_agent=False)
    sftp = client.open_sftp()
    yield sftp
    client.close()


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
