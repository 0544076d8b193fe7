"""Images from a real registry (Debian's docker-registry, distribution 2.8, htpasswd auth;
started by scripts/testbed.sh): the testing image is pushed to it, its tag removed from
the engine, and launches through the real sshd and engine pull it with the login of an
Airflow `docker` connection, or fail saying why (and whether a retry can help)."""

from __future__ import annotations

import json
import shutil
import socket
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import httpx
import pytest
from airflow.sdk.exceptions import AirflowFailException
from docker.errors import ImageNotFound
from docker_engine_gate import EngineGate
from heartbeat_operator.exceptions import LaunchFailed
from heartbeat_operator.hooks import ExecutionHost
from heartbeat_operator.operators import HeartbeatDockerOperator
from heartbeat_operator.settings import ContainerSettings, DockerEndpoint

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
SOURCE_IMAGE = "data-collection-testing:latest"
REPOSITORY = "heartbeat-tests/testing"
ENGINE = docker.DockerClient(base_url="unix:///var/run/docker.sock")


@dataclass(frozen=True)
class Registry:
    address: str
    username: str
    password: str

    def connection(self, password: str | None = None) -> str:
        host, port = self.address.split(":")
        return json.dumps({"conn_type": "docker", "host": host, "port": int(port),
                           "login": self.username, "password": password or self.password})


@pytest.fixture(scope="module")
def registry() -> Registry:
    found = ROOT / ".testbed" / "registry" / "credentials.json"
    if not found.exists():
        pytest.fail(f"no test bed registry ({found}): run scripts/testbed.sh start registry")
    return Registry(**json.loads(found.read_text()))


@pytest.fixture(scope="module")
def pushed(registry: Registry) -> Iterator[str]:
    """The testing image in the registry under a tag of this run, not on the engine."""
    tag = f"run-{uuid.uuid4().hex[:12]}"
    image = f"{registry.address}/{REPOSITORY}:{tag}"
    ENGINE.images.get(SOURCE_IMAGE).tag(f"{registry.address}/{REPOSITORY}", tag)
    auth = {"username": registry.username, "password": registry.password}
    lines = [json.loads(line) for line in ENGINE.images.push(
        f"{registry.address}/{REPOSITORY}", tag, auth_config=auth).splitlines()]
    assert not [line for line in lines if "error" in line], lines
    untag(image)
    yield image
    untag(image)
    delete_from_registry(registry, tag)


def untag(image: str) -> None:
    try:
        ENGINE.images.remove(image, noprune=True)  # a tag of the testing image: untags
    except ImageNotFound:
        pass


def delete_from_registry(registry: Registry, tag: str) -> None:
    url = f"http://{registry.address}/v2/{REPOSITORY}/manifests"
    with httpx.Client(auth=(registry.username, registry.password), timeout=30) as client:
        head = client.head(f"{url}/{tag}", headers={
            "Accept": "application/vnd.docker.distribution.manifest.v2+json"})
        head.raise_for_status()
        client.delete(f"{url}/{head.headers['Docker-Content-Digest']}").raise_for_status()


@pytest.fixture()
def ssh_conn(monkeypatch: pytest.MonkeyPatch) -> str:
    conns = json.loads((ROOT / ".testbed" / "connections.json").read_text())
    monkeypatch.setenv("AIRFLOW_CONN_HOST_TEST", json.dumps(conns["execution_host"]))
    return "host_test"


@pytest.fixture()
def run_id(pushed: str) -> Iterator[str]:
    """Labels this test's containers; removes them, and the pulled tag, afterwards."""
    run = str(uuid.uuid4())
    yield run
    for container in ENGINE.containers.list(
            all=True, filters={"label": f"heartbeat.execution_id={run}"}):
        container.remove(force=True)
    untag(pushed)


def spec(image: str, run_id: str) -> dict[str, Any]:
    return {"Image": image, "Cmd": ["python", "-c", "print('pulled and ran')"],
            "Labels": {"heartbeat.execution_id": run_id}}


def operator(conn_id: str | None, pull: str = "if_not_present",
             ssh_conn_id: str = "host_test") -> HeartbeatDockerOperator:
    return HeartbeatDockerOperator(task_id="t", config={}, ssh_conn_id=ssh_conn_id,
                                   docker_conn_id=conn_id, container=ContainerSettings(pull=pull))


def local(image: str) -> bool:
    try:
        ENGINE.images.get(image)
    except ImageNotFound:
        return False
    return True


async def test_a_launch_pulls_the_image_with_the_docker_connections_login(
    ssh_conn: str, registry: Registry, pushed: str, run_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_TEST_REGISTRY", registry.connection())
    assert not local(pushed)
    name = f"task-{run_id}"
    async with ExecutionHost(ssh_conn, DockerEndpoint()) as host:
        await operator("test_registry")._run_container(host, pushed, name, spec(pushed, run_id))
        exit_code = await host.docker().wait(name)
        tail = await host.docker().logs_tail(name)
    assert (exit_code, tail) == (0, "pulled and ran\n")
    assert local(pushed)


async def test_pull_always_through_an_engine_29_sends_the_login_at_api_1_52(
    ssh_conn: str, registry: Registry, pushed: str, run_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_TEST_REGISTRY", registry.connection())
    gate_dir = tempfile.mkdtemp(prefix="gate-")
    name = f"task-{run_id}"
    try:
        async with EngineGate(f"{gate_dir}/docker.sock") as gate:
            endpoint = DockerEndpoint(socket_path=gate.socket_path)
            async with ExecutionHost(ssh_conn, endpoint) as host:
                await operator("test_registry", pull="always")._run_container(
                    host, pushed, name, spec(pushed, run_id))
                assert await host.docker().wait(name) == 0
    finally:
        shutil.rmtree(gate_dir, ignore_errors=True)
    assert gate.forwarded[0].startswith("POST /v1.41/images/create?fromImage=")
    assert gate.requests[1].startswith("POST /v1.52/images/create?fromImage=")
    assert local(pushed)


async def test_the_wrong_password_fails_for_good_naming_the_registry(
    ssh_conn: str, registry: Registry, pushed: str, run_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wrong = f"not-{registry.password}"
    monkeypatch.setenv("AIRFLOW_CONN_TEST_REGISTRY", registry.connection(password=wrong))
    async with ExecutionHost(ssh_conn, DockerEndpoint()) as host:
        with pytest.raises(AirflowFailException) as failed:
            await operator("test_registry")._run_container(
                host, pushed, f"task-{run_id}", spec(pushed, run_id))
    assert str(failed.value) == (
        f"registry {registry.address} refused to let execution host 127.0.0.1:2222 pull "
        f"image '{pushed}' (unauthorized: authentication required): check the login and "
        "password of connection 'test_registry'")
    assert wrong not in str(failed.value)
    assert not local(pushed)


async def test_without_a_login_the_registry_refuses_and_the_error_says_what_to_give(
    ssh_conn: str, registry: Registry, pushed: str, run_id: str,
) -> None:
    async with ExecutionHost(ssh_conn, DockerEndpoint()) as host:
        with pytest.raises(AirflowFailException, match=(
                f"registry {registry.address} refused .+ no basic auth credentials\\): give "
                f"the task a docker_conn_id whose host is {registry.address}$")):
            await operator(None)._run_container(host, pushed, f"task-{run_id}",
                                                spec(pushed, run_id))


async def test_a_tag_the_registry_lacks_fails_for_good_naming_image_and_host(
    ssh_conn: str, registry: Registry, pushed: str, run_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_TEST_REGISTRY", registry.connection())
    missing = f"{registry.address}/{REPOSITORY}:no-such-tag"
    async with ExecutionHost(ssh_conn, DockerEndpoint()) as host:
        with pytest.raises(AirflowFailException, match=(
                f"^image '{missing}' is not on execution host 127\\.0\\.0\\.1:2222 and could "
                f"not be pulled \\(registry {registry.address} has no such image: .*manifest "
                "unknown")):
            await operator("test_registry")._run_container(
                host, missing, f"task-{run_id}", spec(missing, run_id))


async def test_pull_never_with_the_image_missing_fails_naming_the_image(
    ssh_conn: str, registry: Registry, pushed: str, run_id: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_TEST_REGISTRY", registry.connection())
    async with ExecutionHost(ssh_conn, DockerEndpoint()) as host:
        with pytest.raises(AirflowFailException, match=(
                f"^image '{pushed}' is not on execution host 127\\.0\\.0\\.1:2222 and the "
                "pull policy is 'never'")):
            await operator("test_registry", pull="never")._run_container(
                host, pushed, f"task-{run_id}", spec(pushed, run_id))
    assert not local(pushed)


async def test_an_unreachable_registry_is_retryable(ssh_conn: str, run_id: str) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    image = f"127.0.0.1:{port}/{REPOSITORY}:any"
    async with ExecutionHost(ssh_conn, DockerEndpoint()) as host:
        with pytest.raises(LaunchFailed, match=(
                f"^registry 127\\.0\\.0\\.1:{port} did not answer execution host "
                f"127\\.0\\.0\\.1:2222 pulling image '{image}' \\(.*connection refused\\); "
                "a retry may succeed$")):
            await operator(None)._run_container(host, image, f"task-{run_id}",
                                                spec(image, run_id))
