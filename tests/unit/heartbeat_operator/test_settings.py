"""Grouped settings validate at DAG parse time, naming the bad value."""

from __future__ import annotations

import pytest
from heartbeat_operator.settings import ContainerSettings, DockerEndpoint, Timeouts


def test_plain_tcp_docker_is_refused_unless_explicitly_allowed() -> None:
    with pytest.raises(ValueError, match="plain tcp://"):
        DockerEndpoint(url="tcp://exec-host:2375")
    assert DockerEndpoint(url="tcp://exec-host:2375", allow_insecure=True).host_port() == (
        "exec-host", 2375)
    tls = DockerEndpoint(url="tcp://h:2376", tls_ca_cert="ca", tls_client_cert="c",
                         tls_client_key="k")
    assert tls.uses_tls


def test_ssh_scheme_means_the_tasks_own_ssh_connection() -> None:
    assert DockerEndpoint(url="ssh://").url == "ssh"
    with pytest.raises(ValueError, match="through the task's SSH connection"):
        DockerEndpoint(url="ssh://root@other-host")


def test_unknown_docker_scheme_is_refused() -> None:
    with pytest.raises(ValueError, match="use 'ssh'"):
        DockerEndpoint(url="unix:///var/run/docker.sock")


def test_container_settings_name_the_bad_field() -> None:
    with pytest.raises(ValueError, match="remove='sometimes'"):
        ContainerSettings(remove="sometimes")
    with pytest.raises(ValueError, match="cpus=0"):
        ContainerSettings(cpus=0)
    with pytest.raises(ValueError, match="memory limit"):
        ContainerSettings(memory="much")
    with pytest.raises(ValueError, match="stop_grace_seconds"):
        ContainerSettings(stop_grace_seconds=60)
    with pytest.raises(ValueError, match="pull='sometimes': expected one of if_not_present, "
                                         "always, never"):
        ContainerSettings(pull="sometimes")
    assert ContainerSettings().pull == "if_not_present"


def test_timeouts_must_be_positive() -> None:
    with pytest.raises(ValueError, match="timeouts.heartbeat=0"):
        Timeouts(heartbeat=0)


def test_sqlalchemy_urls_from_airflow_connections() -> None:
    from airflow.models.connection import Connection
    from heartbeat_operator.hooks import sqlalchemy_url

    pg = Connection(conn_id="src", conn_type="postgres", host="db", port=5432,
                    login="app", password="p@ss/word", schema="shop")
    assert sqlalchemy_url(pg) == "postgresql+psycopg://app:p%40ss%2Fword@db:5432/shop"
    my = Connection(conn_id="t", conn_type="mysql", host="m", login="root", schema="x")
    assert sqlalchemy_url(my) == "mysql+pymysql://root@m/x"
    with pytest.raises(ValueError, match="#sqlalchemy needs"):
        sqlalchemy_url(Connection(conn_id="h", conn_type="http", host="x"))
