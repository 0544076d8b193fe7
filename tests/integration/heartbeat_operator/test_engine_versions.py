"""Engine API version negotiation against real engines, over the real sshd: the test
bed's Docker 20.10, and a stand-in for Docker Engine 29 in front of it
(tests/support/docker_engine_gate.py: it answers the version questions as Engine 29.0
does, refuses API versions below 1.44 with the engine's message, and forwards the rest
to the real engine). Before negotiation the client spoke API 1.41 to every engine, which
Engine 29 refuses."""

from __future__ import annotations

import json
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
from airflow.sdk.exceptions import AirflowFailException
from docker_engine_gate import EngineGate
from heartbeat_operator import _remote
from heartbeat_operator._docker_api import AsyncDockerApi, DockerApiError
from heartbeat_operator._engine_version import ApiVersion, EngineRange
from heartbeat_operator.hooks import ExecutionHost
from heartbeat_operator.operators import HeartbeatDockerOperator
from heartbeat_operator.settings import DockerEndpoint

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
IMAGE = "data-collection-testing:latest"
ENGINE_29_REFUSAL = ("client version 1.41 is too old. Minimum supported API version is 1.44, "
                     "please upgrade your client to a newer version")


@pytest.fixture()
def ssh_conn(monkeypatch: pytest.MonkeyPatch) -> str:
    conns = json.loads((ROOT / ".testbed" / "connections.json").read_text())
    monkeypatch.setenv("AIRFLOW_CONN_HOST_TEST", json.dumps(conns["execution_host"]))
    return "host_test"


@pytest.fixture()
def gate_dir() -> Iterator[str]:
    # Short: a unix socket's path has a limit of about 100 bytes.
    path = tempfile.mkdtemp(prefix="gate-")
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture()
async def engine_29(gate_dir: str) -> AsyncIterator[EngineGate]:
    async with EngineGate(f"{gate_dir}/docker.sock") as gate:
        yield gate


@pytest.fixture()
def paths() -> Iterator[_remote.RemotePaths]:
    execution_id = str(uuid.uuid4())
    yield _remote.RemotePaths.for_execution(execution_id, "/tmp/host_test_configs",
                                            "/tmp/host_test_outputs")
    local = docker.DockerClient(base_url="unix:///var/run/docker.sock")
    for container in local.containers.list(
            all=True, filters={"label": f"heartbeat.execution_id={execution_id}"}):
        container.remove(force=True)


def spec_for(paths: _remote.RemotePaths, command: list[str]) -> dict[str, Any]:
    execution_id = paths.config_dir.rsplit("/", 1)[1]
    spec = _remote.container_spec(image=IMAGE, env={"GREETING": "hello"},
                                  labels={"heartbeat.execution_id": execution_id},
                                  user="1000:1000", paths=paths)
    spec["Cmd"] = command
    return spec


async def test_the_test_beds_engine_20_10_is_spoken_to_at_api_1_41(ssh_conn: str) -> None:
    async with ExecutionHost(ssh_conn, DockerEndpoint()) as host:
        api = host.docker()
        offered = await api.engine_range()
        assert await api.api_version() == ApiVersion(1, 41)
    assert offered == EngineRange(ApiVersion(1, 41), ApiVersion(1, 12))


async def test_a_container_runs_through_an_engine_29_at_api_1_52(
    ssh_conn: str, engine_29: EngineGate, paths: _remote.RemotePaths
) -> None:
    name = _remote.container_name(paths.config_dir.rsplit("/", 1)[1])
    async with ExecutionHost(ssh_conn, DockerEndpoint(socket_path=engine_29.socket_path)) as host:
        await host.upload_config(paths, b'{"from": "config"}')
        await host.chown(paths, 1000, 1000)
        api = host.docker()
        container_id = await api.create(name, spec_for(
            paths, ["sh", "-c", 'echo "$GREETING"; cat /app/config.json']))
        await api.start(container_id)
        exit_code = await api.wait(name)
        state = await api.inspect(name)
        tail = await api.logs_tail(name, 10)
        await api.remove(name)
        gone = await api.inspect(name)
        await host.remove_paths(paths.config_dir, paths.output_dir)
        assert await api.api_version() == ApiVersion(1, 52)
    assert (exit_code, state.exit_code, state.oom_killed, state.running) == (0, 0, False, False)
    assert tail.split() == ["hello", '{"from":', '"config"}']
    assert not gone.exists
    # Asked once, unversioned; everything else at 1.52, served by the real engine at 1.41.
    assert engine_29.requests[0] == "GET /version"
    assert [r for r in engine_29.requests if "/version" in r] == ["GET /version"]
    calls = engine_29.requests[1:]
    assert calls and all(r.split()[1].startswith("/v1.52/") for r in calls)
    assert engine_29.forwarded == [r.replace("/v1.52/", "/v1.41/") for r in calls]


async def test_the_client_pinned_to_1_41_gets_engine_29s_refusal(
    ssh_conn: str, engine_29: EngineGate, paths: _remote.RemotePaths
) -> None:
    """What broke: the client spoke API 1.41 to every engine, and Engine 29 refuses it."""
    async with ExecutionHost(ssh_conn, DockerEndpoint()) as host:
        ssh = await host.ssh()

        async def through_the_gate() -> tuple[Any, Any]:
            return await ssh.open_unix_connection(engine_29.socket_path)

        pinned = AsyncDockerApi(through_the_gate, version="1.41")
        with pytest.raises(DockerApiError) as refused:
            await pinned.create("task-pinned-client-test", spec_for(paths, ["true"]))
    assert (refused.value.status, str(refused.value)) == (
        400, f"Docker API answered 400: {ENGINE_29_REFUSAL}")
    assert engine_29.forwarded == []  # the real engine never saw it


@pytest.mark.parametrize(("newest", "oldest", "advice"), [
    ("1.60", "1.53", "upgrade heartbeat-operator"),
    ("1.40", "1.12", "upgrade the engine to Docker 20.10 or later"),
])
async def test_an_engine_whose_range_misses_ours_fails_the_launch_naming_host_and_ranges(
    ssh_conn: str, gate_dir: str, paths: _remote.RemotePaths, newest: str, oldest: str,
    advice: str,
) -> None:
    operator = HeartbeatDockerOperator(task_id="t", config={}, ssh_conn_id=ssh_conn)
    async with EngineGate(f"{gate_dir}/docker.sock", newest=newest, oldest=oldest) as gate:
        async with ExecutionHost(ssh_conn, DockerEndpoint(socket_path=gate.socket_path)) as host:
            with pytest.raises(AirflowFailException) as failed:
                await operator._run_container(host, IMAGE, "task-no-common-version-test",
                                              spec_for(paths, ["true"]))
    assert str(failed.value).startswith(
        f"the Docker engine of execution host 127.0.0.1:2222 speaks Engine API {oldest} to "
        f"{newest}, this client 1.41 to 1.52: no version in common; {advice}")
    assert gate.requests == ["GET /version"] and gate.forwarded == []
