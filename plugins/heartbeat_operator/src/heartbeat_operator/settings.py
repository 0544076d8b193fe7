"""Grouped operator settings, so the operator's constructor stays small."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from heartbeat_operator._remote import REMOVAL_POLICIES, memory_bytes

# When the image is pulled before the container is created (see _images).
PULL_POLICIES = ("if_not_present", "always", "never")


@dataclass(frozen=True)
class ContainerSettings:
    """How the container runs on the execution host.

    env_from_connections maps a container variable to an Airflow connection id: the
    variable gets the connection's password, its URI with ``conn_id#uri``, or a
    SQLAlchemy URL with ``conn_id#sqlalchemy``; secrets come from Airflow and never sit
    in the config file.

    pull: ``if_not_present`` pulls the image only when the host lacks it, ``always``
    before every run (a moving tag), ``never`` fails when the host lacks it. Pulls use
    the operator's ``docker_conn_id`` for the image's registry.
    """

    memory: str | None = None
    cpus: float | None = None
    network: str | None = None
    extra_hosts: dict[str, str] = field(
        default_factory=lambda: {"host.docker.internal": "host-gateway"}
    )
    env_from_connections: dict[str, str] = field(default_factory=dict)
    remove: str = "success"
    pull: str = "if_not_present"
    stop_grace_seconds: int = 10
    config_root: str = "/tmp/task_configs"
    output_root: str = "/tmp/task_outputs"

    def __post_init__(self) -> None:
        if self.remove not in REMOVAL_POLICIES:
            raise ValueError(
                f"remove={self.remove!r}: expected one of {', '.join(REMOVAL_POLICIES)}"
            )
        if self.pull not in PULL_POLICIES:
            raise ValueError(
                f"pull={self.pull!r}: expected one of {', '.join(PULL_POLICIES)}")
        memory_bytes(self.memory)
        if self.cpus is not None and self.cpus <= 0:
            raise ValueError(f"cpus={self.cpus}: must be positive")
        if not 0 <= self.stop_grace_seconds <= 25:
            # on_kill has 30 s in all; the grace period must leave time to remove.
            raise ValueError("stop_grace_seconds must be between 0 and 25")


@dataclass(frozen=True)
class Timeouts:
    """Seconds. heartbeat: silence before Docker is asked; startup: wait for the first
    heartbeat; silent_running: how long a running but silent container is tolerated;
    retry_budget: how long the watch retries an unreachable Redis or execution host
    before it gives up (the next try then reattaches, see ``reattach``)."""

    heartbeat: float = 30.0
    startup: float = 120.0
    silent_running: float = 300.0
    retry_budget: float = 300.0

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if value <= 0:
                raise ValueError(f"timeouts.{name}={value}: must be positive")


@dataclass(frozen=True)
class DockerEndpoint:
    """The execution host's Docker engine.

    ``ssh`` or ``ssh://`` (the default) reaches it through the SSH connection: the engine's
    ``socket_path`` forwarded by sshd, or the host's ``docker system dial-stdio``.
    ``tcp://host:port`` needs TLS client files unless ``allow_insecure`` is set.
    """

    url: str = "ssh"
    socket_path: str = "/var/run/docker.sock"
    tls_ca_cert: str | None = None
    tls_client_cert: str | None = None
    tls_client_key: str | None = None
    allow_insecure: bool = False

    def __post_init__(self) -> None:
        if self.url == "ssh://":
            object.__setattr__(self, "url", "ssh")
        if self.url == "ssh":
            return
        if self.url.startswith("ssh://"):
            raise ValueError(
                f"docker url {self.url!r}: the engine is reached through the task's SSH "
                "connection (ssh_conn_id); give url='ssh' (or 'ssh://') without a host")
        if not self.url.startswith("tcp://"):
            raise ValueError(f"docker url {self.url!r}: use 'ssh' or 'tcp://host:port'")
        tls = self.tls_ca_cert and self.tls_client_cert and self.tls_client_key
        if not tls and not self.allow_insecure:
            raise ValueError(
                f"docker url {self.url}: plain tcp:// exposes the Docker engine; give "
                "tls_ca_cert, tls_client_cert and tls_client_key, or allow_insecure=True"
            )

    @property
    def uses_tls(self) -> bool:
        return self.url.startswith("tcp://") and bool(self.tls_ca_cert)

    def host_port(self) -> tuple[str, int]:
        hostport = self.url.removeprefix("tcp://").rstrip("/")
        host, _, port = hostport.rpartition(":")
        return host, int(port or 2376)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)
