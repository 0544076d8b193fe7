"""Choosing the execution host for a run among several SSH connections.

Policy: the host with the fewest running containers of this product (counted by the
`heartbeat.ssh_conn_id` label, so hosts sharing one engine are told apart); ties go
to a random one of them. A host that does not answer is skipped with a warning; when
none answers the run fails with every host's error.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow.sdk.exceptions import AirflowException

from heartbeat_operator._remote import LABEL_PREFIX
from heartbeat_operator.hooks import ExecutionHost
from heartbeat_operator.settings import DockerEndpoint

HOST_LABEL = f"{LABEL_PREFIX}ssh_conn_id"


class NoExecutionHost(AirflowException):
    """No execution host answered."""


@dataclass
class Placement:
    chosen: ExecutionHost
    conn_id: str
    others: dict[str, ExecutionHost] = field(default_factory=dict)
    running: dict[str, int] = field(default_factory=dict)

    def all_hosts(self) -> dict[str, ExecutionHost]:
        return {self.conn_id: self.chosen, **self.others}

    def close_others(self) -> None:
        for host in self.others.values():
            host.close()
        self.others = {}


def running_containers(host: ExecutionHost, conn_id: str) -> int:
    filters = {"label": [f"{HOST_LABEL}={conn_id}"], "status": "running"}
    return len(host.docker.containers.list(filters=filters))


def pick_least_busy(running: dict[str, int], choice: Callable[[list[str]], str]) -> str:
    fewest = min(running.values())
    return choice(sorted(c for c, n in running.items() if n == fewest))


def place(
    conn_ids: Sequence[str],
    endpoint: DockerEndpoint,
    log: Any,
    choice: Callable[[list[str]], str] = random.choice,
) -> Placement:
    """Open every host that answers and choose one for this run."""
    if len(conn_ids) == 1:
        return Placement(ExecutionHost(conn_ids[0], endpoint), conn_ids[0])
    answered: dict[str, ExecutionHost] = {}
    running: dict[str, int] = {}
    errors: dict[str, str] = {}
    for conn_id in conn_ids:
        host = ExecutionHost(conn_id, endpoint, timeout=15)
        try:
            running[conn_id] = running_containers(host, conn_id)
            answered[conn_id] = host
        except Exception as exc:  # noqa: BLE001 - any failure means: skip this host
            host.close()
            errors[conn_id] = f"{type(exc).__name__}: {exc}"
            log.warning("Execution host %s skipped for this run: %s", conn_id, errors[conn_id])
    if not answered:
        detail = "; ".join(f"{c}: {e}" for c, e in errors.items())
        raise NoExecutionHost(f"no execution host answered ({detail})")
    conn_id = pick_least_busy(running, choice)
    log.info("Execution host %s chosen (running containers: %s)", conn_id, running)
    chosen = answered.pop(conn_id)
    return Placement(chosen, conn_id, answered, running)
