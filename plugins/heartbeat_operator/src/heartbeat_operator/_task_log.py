"""What the task log says about a launch: a few lines on where the container runs and
how to find it, without the SSH and HTTP libraries' connection chatter.

Airflow 3.3's ``[logging] namespace_levels`` filters its structlog loggers, not stdlib
ones such as asyncssh's, which alone wrote about 40 INFO lines per launch (``[conn=0,
chan=1] Requesting new SSH session``...). So where this package opens connections it
sets the libraries' loggers, and only those, to ``[heartbeat_operator]
library_log_level`` (env ``AIRFLOW__HEARTBEAT_OPERATOR__LIBRARY_LOG_LEVEL``; default
``WARNING``; ``INFO`` or ``DEBUG`` to debug a connection).
"""

from __future__ import annotations

import logging
import shlex
from typing import Any

from heartbeat_operator._remote import LABEL_PREFIX
from heartbeat_operator.settings import DockerEndpoint

LIBRARY_LOGGERS = ("asyncssh", "httpx", "httpcore", "paramiko")
CONFIG_SECTION = "heartbeat_operator"
LEVEL_OPTION = "library_log_level"
DEFAULT_LEVEL = "WARNING"


def library_log_level(configured: str | None) -> int:
    """The level for a configured name (``None``: the default); unknown names give the
    default, so a typo never silences warnings."""
    name = (configured or DEFAULT_LEVEL).strip().upper()
    level = logging.getLevelNamesMapping().get(name)
    return level if level is not None else logging.WARNING


def _configured_level() -> str | None:
    try:
        from airflow.sdk import conf

        value = conf.get(CONFIG_SECTION, LEVEL_OPTION, fallback=None)
    except Exception:  # noqa: BLE001 - no readable Airflow config: the default
        return None
    return str(value) if value else None


def quiet_library_loggers() -> None:
    """Set the SSH and HTTP libraries' loggers to the configured level; no other logger
    and no handler is touched."""
    level = library_log_level(_configured_level())
    for name in LIBRARY_LOGGERS:
        logging.getLogger(name).setLevel(level)


def docker_logs_command(endpoint: DockerEndpoint, container: str) -> str:
    """The command that follows the container's log: on the execution host for the SSH
    endpoint, from anywhere with the client files for a ``tcp://`` one."""
    name = shlex.quote(container)
    if endpoint.url == "ssh":
        return f"docker logs -f {name}"
    tls = " --tlsverify" if endpoint.uses_tls else ""
    return f"docker -H {shlex.quote(endpoint.url)}{tls} logs -f {name}"


def launch_summary(*, container: str, image: str, execution_id: str, host: str,
                   conn_id: str, endpoint: DockerEndpoint,
                   live_view: str | None) -> list[str]:
    """The task log's lines about a started container."""
    where = f"on {host}: " if endpoint.url == "ssh" else ""
    lines = [
        f"Started container {container} from {image} on {host} (connection {conn_id})",
        f"Execution id {execution_id} (container label {LABEL_PREFIX}execution_id)",
        f"Its log, {where}{docker_logs_command(endpoint, container)}",
    ]
    if live_view:
        lines.append(f"Live view: {live_view}")
    return lines


def log_launch_summary(log: Any, **launch: Any) -> None:
    for line in launch_summary(**launch):
        log.info("%s", line)
