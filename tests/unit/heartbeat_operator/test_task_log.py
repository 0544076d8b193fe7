"""The task log's launch lines, and the SSH/HTTP libraries' loggers kept at WARNING
unless the option turns them up; no other logger is touched."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from heartbeat_operator._task_log import (
    LIBRARY_LOGGERS,
    docker_logs_command,
    launch_summary,
    library_log_level,
    quiet_library_loggers,
)
from heartbeat_operator.settings import DockerEndpoint

ENV = "AIRFLOW__HEARTBEAT_OPERATOR__LIBRARY_LOG_LEVEL"


@pytest.fixture()
def levels() -> Iterator[None]:
    names = [*LIBRARY_LOGGERS, "", "airflow", "asyncio"]
    saved = {name: logging.getLogger(name).level for name in names}
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)
    yield
    for name, level in saved.items():
        logging.getLogger(name).setLevel(level)


def test_library_loggers_go_to_warning_and_nothing_else_moves(
    levels: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV, raising=False)
    others = {name: logging.getLogger(name).level for name in ("", "airflow", "asyncio")}
    quiet_library_loggers()
    assert {n: logging.getLogger(n).level for n in LIBRARY_LOGGERS} == dict.fromkeys(
        LIBRARY_LOGGERS, logging.WARNING)
    assert {name: logging.getLogger(name).level for name in others} == others
    assert not logging.getLogger("asyncssh").isEnabledFor(logging.INFO)
    assert not logging.getLogger("asyncssh.sftp").isEnabledFor(logging.INFO)


def test_the_option_turns_them_up_for_debugging(
    levels: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(ENV, "debug")
    quiet_library_loggers()
    assert logging.getLogger("asyncssh").level == logging.DEBUG
    assert logging.getLogger("paramiko").level == logging.DEBUG


@pytest.mark.parametrize(("configured", "level"), [
    (None, logging.WARNING), ("", logging.WARNING), ("INFO", logging.INFO),
    (" error ", logging.ERROR), ("loud", logging.WARNING),
])
def test_level_names(configured: str | None, level: int) -> None:
    assert library_log_level(configured) == level


def test_the_summary_says_where_the_container_runs_and_how_to_find_it() -> None:
    lines = launch_summary(
        container="task-e1", image="img:1", execution_id="e1", host="10.0.0.5:22",
        conn_id="execution_host", endpoint=DockerEndpoint(),
        live_view="http://api:8000/ui/executions/e1")
    assert lines == [
        "Started container task-e1 from img:1 on 10.0.0.5:22 (connection execution_host)",
        "Execution id e1 (container label heartbeat.execution_id)",
        "Its log, on 10.0.0.5:22: docker logs -f task-e1",
        "Live view: http://api:8000/ui/executions/e1",
    ]


def test_without_a_live_view_there_is_no_such_line() -> None:
    lines = launch_summary(container="task-e1", image="img:1", execution_id="e1",
                           host="h:22", conn_id="c", endpoint=DockerEndpoint(), live_view=None)
    assert len(lines) == 3 and not any("Live view" in line for line in lines)


def test_a_tls_engine_is_reached_with_its_address() -> None:
    tls = DockerEndpoint(url="tcp://engine:2376", tls_ca_cert="ca", tls_client_cert="c",
                         tls_client_key="k")
    assert docker_logs_command(tls, "task-e1") == (
        "docker -H tcp://engine:2376 --tlsverify logs -f task-e1")
    plain = DockerEndpoint(url="tcp://engine:2375", allow_insecure=True)
    assert docker_logs_command(plain, "task-e1") == "docker -H tcp://engine:2375 logs -f task-e1"
