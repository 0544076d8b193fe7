"""Choosing the execution host for a run among several SSH connections.

Policy: the host with the fewest running containers of this product (counted by the
`heartbeat.ssh_conn_id` label, so hosts sharing one engine are told apart); ties go
to a random one of them. A host that does not answer is skipped with a warning; when
none answers the run fails with every host's error.
"""

from __future__ import annotations

import asyncio
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

    def close(self) -> None:
        self.close_others()
        self.chosen.close()


async def running_containers(host: ExecutionHost, conn_id: str) -> int:
    found = await host.docker().containers([f"{HOST_LABEL}={conn_id}"], running_only=True)
    return len(found)


def pick_least_busy(running: dict[str, int], choice: Callable[[list[str]], str]) -> str:
    fewest = min(running.values())
    return choice(sorted(c for c, n in running.items() if n == fewest))


async def place(
    conn_ids: Sequence[str],
    endpoint: DockerEndpoint,
    log: Any,
    choice: Callable[[list[str]], str] = random.choice,
) -> Placement:
    """Open every host that answers (all at once) and choose one for this run."""
    if len(conn_ids) == 1:
        host = ExecutionHost(conn_ids[0], endpoint)
        try:
            await host.ssh()
        except BaseException:
            host.close()
            raise
        return Placement(host, conn_ids[0])
    hosts = {conn_id: ExecutionHost(conn_id, endpoint, timeout=15) for conn_id in conn_ids}
    counts = await asyncio.gather(
        *(running_containers(host, conn_id) for conn_id, host in hosts.items()),
        return_exceptions=True,
    )
    answered: dict[str, ExecutionHost] = {}
    running: dict[str, int] = {}
    errors: dict[str, str] = {}
    for (conn_id, host), count in zip(hosts.items(), counts, strict=True):
        if isinstance(count, BaseException):
            # Any failure means: skip this host.
            host.close()
            errors[conn_id] = f"{type(count).__name__}: {count}"
            log.warning("Execution host %s skipped for this run: %s", conn_id, errors[conn_id])
        else:
            answered[conn_id] = host
            running[conn_id] = count
    if not answered:
        detail = "; ".join(f"{c}: {e}" for c, e in errors.items())
        raise NoExecutionHost(f"no execution host answered ({detail})")
    conn_id = pick_least_busy(running, choice)
    log.info("Execution host %s chosen (running containers: %s)", conn_id, running)
    chosen = answered.pop(conn_id)
    return Placement(chosen, conn_id, answered, running)
