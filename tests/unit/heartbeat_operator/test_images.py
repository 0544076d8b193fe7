"""The task image on the execution host: registries of image names, the registry auth
header, what a failed pull means for retries, and the pull policies (against a canned
engine), with the password kept out of every log record and error."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import structlog
from airflow.sdk.exceptions import AirflowFailException
from canned_docker_engine import CannedEngine
from heartbeat_operator._images import (
    AUTH,
    DOCKER_HUB,
    MISSING,
    OTHER,
    UNREACHABLE,
    RegistryCredentials,
    normalize_registry,
    pull_failure,
    pull_problem,
    registry_of,
)
from heartbeat_operator.exceptions import LaunchFailed
from heartbeat_operator.hooks import registry_credentials
from heartbeat_operator.operators import HeartbeatDockerOperator
from heartbeat_operator.settings import ContainerSettings

PASSWORD = "s3cret-Pa55word"
CREDS = RegistryCredentials(conn_id="reg", registry="127.0.0.1:5055", username="ci",
                            password=PASSWORD)
IMAGE = "127.0.0.1:5055/team/task:1"
NO_IMAGE = (404, {"message": f"No such image: {IMAGE}"})
CREATED = (201, {"Id": "c1", "Warnings": []})


def test_the_registry_of_an_image_follows_dockers_rule() -> None:
    assert registry_of("data-collection-testing:latest") == DOCKER_HUB
    assert registry_of("team/task:1") == DOCKER_HUB
    assert registry_of("127.0.0.1:5055/team/task:1") == "127.0.0.1:5055"
    assert registry_of("registry.example.com/task") == "registry.example.com"
    assert registry_of("localhost/task") == "localhost"
    assert registry_of("Registry.Example.com:443/t@sha256:ab") == "registry.example.com:443"


def test_registry_addresses_are_normalized() -> None:
    assert normalize_registry("https://index.docker.io/v1/") == DOCKER_HUB
    assert normalize_registry("registry-1.docker.io") == DOCKER_HUB
    assert normalize_registry("http://127.0.0.1:5055") == "127.0.0.1:5055"


def test_the_auth_header_is_base64url_json_per_the_engine_api() -> None:
    header = RegistryCredentials(conn_id="reg", registry="r.example.com", username="ci",
                                 password="p?>>~").header()
    assert "+" not in header and "/" not in header  # URL-safe alphabet
    assert json.loads(base64.urlsafe_b64decode(header)) == {
        "username": "ci", "password": "p?>>~", "serveraddress": "r.example.com"}


def test_credentials_do_not_show_their_password() -> None:
    assert PASSWORD not in repr(CREDS)
    assert CREDS.redact(f"x {PASSWORD} y {CREDS.header()}") == "x *** y ***"


@pytest.mark.parametrize(("status", "message", "problem"), [
    (404, "manifest for 127.0.0.1:5055/t:nope not found: manifest unknown: manifest unknown",
     MISSING),
    (500, "pull access denied for nope, repository does not exist or may require "
          "'docker login': denied: requested access to the resource is denied", MISSING),
    (200, "manifest unknown", MISSING),
    (500, 'Head "http://127.0.0.1:5055/v2/t/manifests/1": no basic auth credentials', AUTH),
    (500, "unauthorized: authentication required", AUTH),
    (500, 'Get "http://127.0.0.1:5999/v2/": dial tcp 127.0.0.1:5999: connect: connection '
          "refused", UNREACHABLE),
    (500, 'Get "https://r.invalid/v2/": dial tcp: lookup r.invalid: no such host',
     UNREACHABLE),
    (500, "net/http: TLS handshake timeout", UNREACHABLE),
    (503, "Service Unavailable", UNREACHABLE),
    (500, "write /var/lib/docker/tmp: no space left on device", OTHER),
])
def test_pull_problems_are_told_apart(status: int, message: str, problem: str) -> None:
    assert pull_problem(status, message) == problem


def test_each_problem_fails_the_task_for_good_or_for_a_retry() -> None:
    def failure(problem: str, creds: RegistryCredentials | None = CREDS) -> Exception:
        return pull_failure(problem, f"engine says {PASSWORD}", image=IMAGE,
                            host="10.0.0.5:22", credentials=creds)

    missing, auth, unreachable, other = (failure(p) for p in (MISSING, AUTH, UNREACHABLE,
                                                              OTHER))
    assert isinstance(missing, AirflowFailException)
    assert str(missing).startswith(f"image '{IMAGE}' is not on execution host 10.0.0.5:22 "
                                   "and could not be pulled (registry 127.0.0.1:5055 has "
                                   "no such image")
    assert isinstance(auth, AirflowFailException)
    assert str(auth).startswith(f"registry 127.0.0.1:5055 refused to let execution host "
                                f"10.0.0.5:22 pull image '{IMAGE}'")
    assert str(auth).endswith("check the login and password of connection 'reg'")
    assert str(failure(AUTH, None)).endswith(
        "give the task a docker_conn_id whose host is 127.0.0.1:5055")
    assert isinstance(unreachable, LaunchFailed)
    assert str(unreachable).startswith("registry 127.0.0.1:5055 did not answer")
    assert isinstance(other, LaunchFailed)
    assert all(PASSWORD not in str(e) for e in (missing, auth, unreachable, other))


class FakeHost:
    """An execution host whose engine is canned."""

    host = "10.0.0.5:22"

    def __init__(self, engine: CannedEngine) -> None:
        self.api = engine.api()

    async def ssh(self) -> None:
        return None

    def docker(self) -> Any:
        return self.api


def run_container(engine: CannedEngine, pull: str = "if_not_present",
                  docker_conn_id: str | None = None) -> None:
    operator = HeartbeatDockerOperator(task_id="t", config={}, docker_conn_id=docker_conn_id,
                                       container=ContainerSettings(pull=pull))
    asyncio.run(operator._run_container(FakeHost(engine), IMAGE, "task-1",  # type: ignore[arg-type]
                                        {"Image": IMAGE}))


@pytest.fixture()
def registry_conn(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("AIRFLOW_CONN_REG", json.dumps({
        "conn_type": "docker", "host": "127.0.0.1", "port": 5055, "login": "ci",
        "password": PASSWORD}))
    return "reg"


def test_the_docker_connection_gives_the_registry_login(registry_conn: str) -> None:
    assert registry_credentials(registry_conn) == CREDS


def test_a_missing_image_is_pulled_with_the_connections_credentials(
    registry_conn: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = CannedEngine(NO_IMAGE, (200, b'{"status":"Downloaded"}\n'), CREATED, (204, b""))
    with every_log_record(caplog) as logged:
        run_container(engine, docker_conn_id=registry_conn)
    assert [p.split(b"?")[0] for p in engine.paths()] == [
        b"/v1.52/containers/create", b"/v1.52/images/create", b"/v1.52/containers/create",
        b"/v1.52/containers/c1/start"]
    assert f"X-Registry-Auth: {CREDS.header()}\r\n".encode() in engine.sent[1]
    assert all(b"X-Registry-Auth" not in r for r in engine.sent[:1] + engine.sent[2:])
    assert f"Pulled {IMAGE} on 10.0.0.5:22" in logged
    assert_no_secret_in(logged)


def test_refused_credentials_fail_for_good_naming_the_registry_not_the_password(
    registry_conn: str, caplog: pytest.LogCaptureFixture
) -> None:
    engine = CannedEngine(NO_IMAGE, (500, {"message": "unauthorized: authentication required"}))
    with every_log_record(caplog) as logged, pytest.raises(AirflowFailException) as failed:
        run_container(engine, docker_conn_id=registry_conn)
    assert "registry 127.0.0.1:5055 refused" in str(failed.value)
    assert PASSWORD not in str(failed.value) and CREDS.header() not in str(failed.value)
    assert f"Image {IMAGE} is not on 10.0.0.5:22; pulling it" in logged
    assert_no_secret_in(logged)


def test_credentials_go_only_to_their_own_registry(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_OTHER", json.dumps({
        "conn_type": "docker", "host": "other.example.com", "login": "ci",
        "password": PASSWORD}))
    engine = CannedEngine(NO_IMAGE, (200, b"{}\n"), CREATED, (204, b""))
    with every_log_record(caplog) as logged:
        run_container(engine, docker_conn_id="other")
    assert b"X-Registry-Auth" not in engine.sent[1]
    assert any("is for registry other.example.com" in m for m in logged)
    assert_no_secret_in(logged)


def test_pull_always_pulls_before_creating() -> None:
    engine = CannedEngine((200, b"{}\n"), CREATED, (204, b""))
    run_container(engine, pull="always")
    assert [p.split(b"?")[0] for p in engine.paths()] == [
        b"/v1.52/images/create", b"/v1.52/containers/create", b"/v1.52/containers/c1/start"]


def test_pull_never_fails_for_good_naming_image_and_host() -> None:
    engine = CannedEngine(NO_IMAGE)
    with pytest.raises(AirflowFailException, match=(
            f"image '{IMAGE}' is not on execution host 10.0.0.5:22 and the pull policy is "
            "'never'")):
        run_container(engine, pull="never")
    assert len(engine.sent) == 1  # no pull


def test_an_unreachable_registry_is_retryable() -> None:
    engine = CannedEngine(NO_IMAGE, (500, {"message": "dial tcp 127.0.0.1:5055: connect: "
                                                      "connection refused"}))
    with pytest.raises(LaunchFailed, match="registry 127.0.0.1:5055 did not answer"):
        run_container(engine)


def test_an_image_on_the_host_is_not_pulled_by_default() -> None:
    engine = CannedEngine(CREATED, (204, b""))
    run_container(engine)
    assert [p.split(b"?")[0] for p in engine.paths()] == [
        b"/v1.52/containers/create", b"/v1.52/containers/c1/start"]


@contextmanager
def every_log_record(caplog: pytest.LogCaptureFixture) -> Iterator[list[str]]:
    """Every record logged in the block, from the task's structlog logger and from the
    standard library's (the SSH and HTTP clients), at every level."""
    logged: list[str] = []
    with caplog.at_level(logging.DEBUG), structlog.testing.capture_logs() as events:
        yield logged
    logged += [str(event) for event in events]
    logged += [f"{r.getMessage()} {r.args!r}" for r in caplog.records]
    logged += [str(event["event"]) for event in events]


def assert_no_secret_in(logged: list[str]) -> None:
    assert logged  # the launch did log
    for line in logged:
        assert PASSWORD not in line and CREDS.header() not in line, line
