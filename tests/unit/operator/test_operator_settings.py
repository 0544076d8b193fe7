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


def test_timeouts_must_be_positive() -> None:
    with pytest.raises(ValueError, match="timeouts.heartbeat=0"):
        Timeouts(heartbeat=0)
