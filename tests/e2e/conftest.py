"""Fixtures of the end-to-end tests: the real stack started by `make services`
(Airflow API server, scheduler, dag-processor and triggerer, the heartbeat API,
Redis, the SSH execution host and its Docker engine)."""

from __future__ import annotations

from collections.abc import Iterator

import docker
import paramiko
import pytest
from airflow_rest import AirflowRest
from e2e_support import STATE, HeartbeatApi


@pytest.fixture(scope="session")
def airflow() -> AirflowRest:
    try:
        client = AirflowRest()
    except Exception as exc:  # noqa: BLE001
        pytest.fail(f"the stack is not running (make services): {exc}")
    for dag_id in ("e2e_custom", "e2e_retry", "e2e_reattach", "e2e_worker_crash",
                   "e2e_timeout", "e2e_give_up"):
        client.wait_for_dag(dag_id)
    return client


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
