"""Run data-collection containers on remote hosts from Airflow, watched by heartbeats."""

from heartbeat_operator.exceptions import (
    ContainerLost,
    HeartbeatTaskError,
    TaskCancelled,
    TaskFailed,
    TriggerError,
)
from heartbeat_operator.hooks import HeartbeatApiHook
from heartbeat_operator.operators import HeartbeatDockerOperator
from heartbeat_operator.settings import ContainerSettings, DockerEndpoint, Timeouts
from heartbeat_operator.triggers import HeartbeatTrigger

__all__ = [
    "ContainerLost",
    "ContainerSettings",
    "DockerEndpoint",
    "HeartbeatApiHook",
    "HeartbeatDockerOperator",
    "HeartbeatTaskError",
    "HeartbeatTrigger",
    "TaskCancelled",
    "TaskFailed",
    "Timeouts",
    "TriggerError",
]
