"""The operator's launch steps against the real test bed: the config uploaded over
SFTP with its modes, a container created and started through the engine's socket
forwarded over SSH, found again by its labels, and a missing image named."""

from __future__ import annotations

import asyncio
import json
import re
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest
from airflow.sdk.exceptions import AirflowFailException
from heartbeat_operator import _remote
from heartbeat_operator.exceptions import LaunchFailed
from heartbeat_operator.hooks import ExecutionHost
from heartbeat_operator.operators import HeartbeatDockerOperator
from heartbeat_operator.settings import DockerEndpoint

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
IMAGE = "data-collection-base:latest"


@pytest.fixture()
def ssh_conn(monkeypatch: pytest.MonkeyPatch) -> str:
    conns = json.loads((ROOT / ".testbed" / "connections.json").read_text())
    monkeypatch.setenv("AIRFLOW_CONN_HOST_TEST", json.dumps(conns["execution_host"]))
    return "host_test"


@pytest.fixture()
def paths() -> Iterator[_remote.RemotePaths]:
    execution_id = str(uuid.uuid4())
    found = _remote.RemotePaths.for_execution(execution_id, "/tmp/host_test_configs",
                                              "/tmp/host_test_outputs")
    yield found
    local = docker.DockerClient(base_url="unix:///var/run/docker.sock")
    for container in local.containers.list(
            all=True, filters={"label": f"heartbeat.execution_id={execution_id}"}):
        container.remove(force=True)


def test_config_upload_is_private_and_owned_by_the_container_user(
    ssh_conn: str, paths: _remote.RemotePaths
) -> None:
    async def scenario() -> tuple[tuple[int, int], list[int], bytes | None]:
        async with ExecutionHost(ssh_conn, DockerEndpoint()) as host:
            owner = await host.upload_config(paths, b'{"k": "v"}')
            await host.chown(paths, 1000, 1000)
            ssh = await host.ssh()
            async with ssh.start_sftp_client() as sftp:
                modes = [stat.S_IMODE((await sftp.stat(p)).permissions or 0)
                         for p in (paths.config_dir, paths.config_file, paths.output_dir)]
                uids = {(await sftp.stat(p)).uid for p in (paths.config_dir,
                                                            paths.config_file)}
            assert uids == {1000}
            content = await host.read_small_file(paths.config_file)
            await host.remove_paths(paths.config_dir, paths.output_dir)
            assert await host.read_small_file(paths.config_file) is None
            return owner, modes, content

    owner, modes, content = asyncio.run(scenario())
    assert owner == (0, 0)  # the test bed's SSH user is root
    assert modes == [0o700, 0o600, 0o700]
    assert content == b'{"k": "v"}'


def test_container_runs_with_the_mounted_config_and_is_found_by_label(
    ssh_conn: str, paths: _remote.RemotePaths
) -> None:
    execution_id = paths.config_dir.rsplit("/", 1)[1]
    name = _remote.container_name(execution_id)
    labels = {"heartbeat.execution_id": execution_id}

    async def scenario() -> tuple[str, str, int]:
        async with ExecutionHost(ssh_conn, DockerEndpoint()) as host:
            await host.upload_config(paths, b'{"from": "config"}')
            await host.chown(paths, 1000, 1000)
            spec = _remote.container_spec(
                image=IMAGE, env={"GREETING": "hi"}, labels=labels, user="1000:1000",
                paths=paths, memory=_remote.memory_bytes("128m"))
            spec["Cmd"] = ["sh", "-c", 'echo "$GREETING"; cat /app/config.json; echo; id -u']
            api = host.docker()
            await api.start(await api.create(name, spec))
            state = await api.inspect(name)
            while state.running:
                state = await api.inspect(name)
            found = await api.containers([f"heartbeat.execution_id={execution_id}"])
            tail = await api.logs_tail(name, 10)
            await api.remove(name)
            gone = await api.inspect(name)
            await host.remove_paths(paths.config_dir, paths.output_dir)
            assert not gone.exists and state.exit_code == 0
            return tail, str(found[0]["Names"][0]), len(found)

    tail, found_name, count = asyncio.run(scenario())
    assert tail.split() == ["hi", '{"from":', '"config"}', "1000"]
    assert (found_name, count) == (f"/{name}", 1)


def test_a_missing_image_fails_the_task_naming_the_image_and_host(
    ssh_conn: str, paths: _remote.RemotePaths
) -> None:
    operator = HeartbeatDockerOperator(task_id="t", config={}, ssh_conn_id=ssh_conn)
    image = "data-collection-no-such-image:never"
    spec = _remote.container_spec(image=image, env={}, labels={}, user="1000:1000",
                                  paths=paths)

    async def scenario() -> None:
        async with ExecutionHost(ssh_conn, DockerEndpoint()) as host:
            await operator._run_container(host, image, "task-missing-image-test", spec)

    # No registry has it (AirflowFailException: no retry), or no registry answers (as
    # on a machine without one: LaunchFailed, retries apply); the message says which.
    with pytest.raises((AirflowFailException, LaunchFailed)) as failed:
        asyncio.run(scenario())
    if isinstance(failed.value, AirflowFailException):
        assert re.match(
            f"image '{image}' is not on execution host 127\\.0\\.0\\.1:2222 and could not "
            r"be pulled \(registry docker\.io has no such image: .+\): build it there "
            r"\(make images\)", str(failed.value))
    else:
        assert re.match(
            f"registry docker\\.io did not answer execution host 127\\.0\\.0\\.1:2222 "
            f"pulling image '{image}' \\(.+\\); a retry may succeed", str(failed.value))
