"""The task log of a real launch (test bed sshd and Docker engine, a heartbeat API of
its own), written by Airflow's task logging in a process of its own: where the
container runs and how to find it in a few lines, and none of asyncssh's INFO chatter
(about 40 lines per launch before) nor the secrets masker's short-secret warning."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
from heartbeat_operator import _remote
from heartbeat_operator.hooks import ExecutionHost
from heartbeat_operator.settings import DockerEndpoint
from heartbeat_servers import redis_server, running_heartbeat_api

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
CHILD = ROOT / "tests" / "support" / "launch_child.py"
ADMIN_TOKEN = "launch-log-admin-token-0123456789"
SECRET = "launch-log-secret-0123456789abcdef"
IMAGE = "data-collection-testing:latest"
ROOTS = {"config_root": "/tmp/launch_log_configs", "output_root": "/tmp/launch_log_outputs"}
LEVEL_ENV = "AIRFLOW__HEARTBEAT_OPERATOR__LIBRARY_LOG_LEVEL"


@pytest.fixture()
def api_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Connections as a task process gets them: the test bed's SSH host, and a heartbeat
    API (a typed connection) and Redis of this test's own. Yields the API's URL."""
    ssh = json.loads((ROOT / ".testbed" / "connections.json").read_text())["execution_host"]
    monkeypatch.delenv(LEVEL_ENV, raising=False)
    with (redis_server(tmp_path / "redis.log") as redis_url,
          running_heartbeat_api(redis_url, secret=SECRET, admin_token=ADMIN_TOKEN,
                                log_path=tmp_path / "api.log") as api):
        port = int(api.base_url.rsplit(":", 1)[1])
        monkeypatch.setenv("AIRFLOW_CONN_LOG_HOST", json.dumps(ssh))
        monkeypatch.setenv("AIRFLOW_CONN_LOG_API", json.dumps({
            "conn_type": "heartbeat", "host": "127.0.0.1", "port": port,
            "password": ADMIN_TOKEN,
            "extra": {"container_url": f"http://host.docker.internal:{port}"}}))
        monkeypatch.setenv("AIRFLOW_CONN_LOG_REDIS", json.dumps({
            "conn_type": "redis", "host": "127.0.0.1",
            "port": int(redis_url.rsplit(":", 1)[1].split("/")[0])}))
        yield api.base_url


def launch(tmp_path: Path) -> tuple[str, list[dict[str, Any]]]:
    """execute() in a task-like process; the execution id and the task log's records.
    Leaves no container or directory behind."""
    log_path = tmp_path / "task.log"
    kwargs = {"task_id": "collect", "ssh_conn_id": "log_host",
              "heartbeat_api_conn_id": "log_api", "redis_conn_id": "log_redis",
              "container": ROOTS,
              "config": {"task_name": "launch log", "task_type": "custom",
                         "docker_image": IMAGE,
                         "custom_config": {"steps": 1, "step_seconds": 0}}}
    done = subprocess.run([sys.executable, str(CHILD), str(log_path), json.dumps(kwargs)],
                          env=dict(os.environ), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    outcome = json.loads(done.stdout.strip().splitlines()[-1])
    execution_id = str(outcome["xcom"]["execution_id"])
    remove_launch(execution_id)
    assert outcome["trigger"]["execution_id"] == execution_id
    records = [json.loads(line) for line in log_path.read_text().splitlines() if line]
    return execution_id, records


def remove_launch(execution_id: str) -> None:
    local = docker.DockerClient(base_url="unix:///var/run/docker.sock")
    for container in local.containers.list(
            all=True, filters={"label": f"heartbeat.execution_id={execution_id}"}):
        container.remove(force=True)
    paths = _remote.RemotePaths.for_execution(execution_id, ROOTS["config_root"],
                                              ROOTS["output_root"])

    async def remove() -> None:
        async with ExecutionHost("log_host", DockerEndpoint()) as host:
            await host.remove_paths(paths.config_dir, paths.output_dir)

    asyncio.run(remove())


def test_the_task_log_says_where_the_container_runs_in_a_few_lines(
    tmp_path: Path, api_url: str
) -> None:
    execution_id, records = launch(tmp_path)
    name = f"task-{execution_id}"
    events = [str(r["event"]) for r in records]
    assert events == [
        f"Execution {execution_id} registered; container {name}",
        f"Started container {name} from {IMAGE} on 127.0.0.1:2222 (connection log_host)",
        f"Execution id {execution_id} (container label heartbeat.execution_id)",
        f"Its log, on 127.0.0.1:2222: docker logs -f {name}",
        f"Live view: {api_url}/ui/executions/{execution_id}",
    ]
    # So no asyncssh, httpx or paramiko record, and no secrets-masker warning.
    assert {r["logger"] for r in records} == {
        "airflow.task.operators.heartbeat_operator.operators.HeartbeatDockerOperator"}


def test_the_option_turns_the_ssh_log_back_on(
    tmp_path: Path, api_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(LEVEL_ENV, "INFO")
    _, records = launch(tmp_path)
    ssh_lines = [r["event"] for r in records if r.get("logger") == "asyncssh"]
    assert "Opening SSH connection to 127.0.0.1, port 2222" in ssh_lines
    assert len(ssh_lines) > 20  # the chatter the default level keeps out
