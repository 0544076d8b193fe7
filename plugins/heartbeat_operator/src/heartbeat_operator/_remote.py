"""Pure logic of a remote execution: names, paths, labels and environment.

No Airflow, network or Docker state here, so every rule is testable on its own.
"""

from __future__ import annotations

import posixpath
import re
import shlex
from dataclasses import dataclass
from typing import Any

from heartbeat_contract import COMPLETION_FILENAME, environment

CONTAINER_PREFIX = "task-"
LABEL_PREFIX = "heartbeat."
DEFAULT_CONFIG_ROOT = "/tmp/task_configs"
DEFAULT_OUTPUT_ROOT = "/tmp/task_outputs"
CONTAINER_CONFIG_PATH = environment.DEFAULT_CONFIG_PATH
CONTAINER_OUTPUT_DIR = environment.DEFAULT_OUTPUT_DIR
# The image's own non-root user; used when the SSH user is root.
DEFAULT_CONTAINER_UID = 1000

REMOVAL_POLICIES = ("never", "success", "always")

_EXECUTION_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_execution_id(execution_id: str) -> str:
    """Execution ids become paths and container names: only a UUID is accepted."""
    if not _EXECUTION_ID.match(execution_id):
        raise ValueError(f"execution id {execution_id!r} is not a lowercase UUID")
    return execution_id


def container_name(execution_id: str) -> str:
    return CONTAINER_PREFIX + check_execution_id(execution_id)


@dataclass(frozen=True)
class RemotePaths:
    """Where one execution's files live on the execution host."""

    config_dir: str
    config_file: str
    output_dir: str

    @classmethod
    def for_execution(
        cls,
        execution_id: str,
        config_root: str = DEFAULT_CONFIG_ROOT,
        output_root: str = DEFAULT_OUTPUT_ROOT,
    ) -> RemotePaths:
        check_execution_id(execution_id)
        for root in (config_root, output_root):
            if not posixpath.isabs(root) or ".." in root.split("/"):
                raise ValueError(f"remote root {root!r} must be an absolute path without '..'")
        config_dir = posixpath.join(config_root, execution_id)
        return cls(
            config_dir=config_dir,
            config_file=posixpath.join(config_dir, "config.json"),
            output_dir=posixpath.join(output_root, execution_id),
        )

    @property
    def completion_file(self) -> str:
        return posixpath.join(self.output_dir, COMPLETION_FILENAME)


def labels(
    *, execution_id: str, dag_id: str, task_id: str, run_id: str, try_number: int, map_index: int
) -> dict[str, str]:
    """Docker labels naming the task instance, so earlier tries can be found again."""
    return {
        f"{LABEL_PREFIX}execution_id": execution_id,
        f"{LABEL_PREFIX}dag_id": dag_id,
        f"{LABEL_PREFIX}task_id": task_id,
        f"{LABEL_PREFIX}run_id": run_id,
        f"{LABEL_PREFIX}try_number": str(try_number),
        f"{LABEL_PREFIX}map_index": str(map_index),
    }


def task_instance_filter(*, dag_id: str, task_id: str, run_id: str, map_index: int) -> list[str]:
    """Label filters matching every try of one task instance."""
    return [
        f"{LABEL_PREFIX}dag_id={dag_id}",
        f"{LABEL_PREFIX}task_id={task_id}",
        f"{LABEL_PREFIX}run_id={run_id}",
        f"{LABEL_PREFIX}map_index={map_index}",
    ]


def container_env(
    *,
    execution_id: str,
    api_base_url: str,
    token: str,
    heartbeat_interval: float,
    extra: dict[str, str] | None = None,
) -> dict[str, str]:
    """The environment of docs/contracts/environment.md, plus the secrets from `extra`."""
    env = dict(extra or {})
    for name in env:
        if not _ENV_NAME.match(name):
            raise ValueError(f"environment variable name {name!r} is not valid")
    reserved = {
        environment.TASK_EXECUTION_ID: execution_id,
        environment.CONFIG_PATH: CONTAINER_CONFIG_PATH,
        environment.API_BASE_URL: api_base_url.rstrip("/"),
        environment.HOSTNAME: container_name(execution_id),
        environment.HEARTBEAT_TOKEN: token,
        environment.HEARTBEAT_INTERVAL: f"{heartbeat_interval:g}",
        environment.OUTPUT_DIR: CONTAINER_OUTPUT_DIR,
    }
    clash = sorted(set(env) & set(reserved))
    if clash:
        raise ValueError(f"environment variables {clash} are set by the operator itself")
    env.update(reserved)
    return env


def container_spec(
    *,
    image: str,
    env: dict[str, str],
    labels: dict[str, str],
    user: str,
    paths: RemotePaths,
    memory: int | None = None,
    cpus: float | None = None,
    network: str | None = None,
    extra_hosts: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The Docker Engine API body creating the container: the config mounted read-only
    at CONFIG_PATH, the output directory at /app/output, limits and labels."""
    host_config: dict[str, Any] = {
        "Binds": [
            f"{paths.config_file}:{CONTAINER_CONFIG_PATH}:ro",
            f"{paths.output_dir}:{CONTAINER_OUTPUT_DIR}:rw",
        ],
    }
    if memory:
        host_config["Memory"] = memory
    if cpus:
        host_config["NanoCpus"] = int(cpus * 1e9)
    if network:
        host_config["NetworkMode"] = network
    if extra_hosts:
        host_config["ExtraHosts"] = [f"{name}:{ip}" for name, ip in extra_hosts.items()]
    return {
        "Image": image,
        "Env": [f"{name}={value}" for name, value in env.items()],
        "Labels": labels,
        "User": user,
        "HostConfig": host_config,
    }


def container_user(remote_uid: int, remote_gid: int) -> str:
    """Run as the owner of the uploaded files, or as the image's user when that is root."""
    if remote_uid == 0:
        return f"{DEFAULT_CONTAINER_UID}:{DEFAULT_CONTAINER_UID}"
    return f"{remote_uid}:{remote_gid}"


def should_remove(policy: str, *, succeeded: bool) -> bool:
    if policy not in REMOVAL_POLICIES:
        raise ValueError(f"remove policy {policy!r} is not one of {', '.join(REMOVAL_POLICIES)}")
    return policy == "always" or (policy == "success" and succeeded)


def rm_command(*paths: str) -> str:
    """A shell command removing the given remote paths (quoted)."""
    return "rm -rf -- " + " ".join(shlex.quote(p) for p in paths)


def memory_bytes(value: str | int | None) -> int | None:
    """'512m', '2g', '1048576' or an int -> bytes."""
    if value is None:
        return None
    if isinstance(value, int):
        return value
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgKMG]?)[bB]?\s*", value)
    if not match:
        raise ValueError(f"memory limit {value!r} is not like '512m' or '2g'")
    scale = {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[match.group(2).lower()]
    return int(float(match.group(1)) * scale)


def summarize_progress(progress: dict[str, Any] | None) -> str:
    """One log line from a progress object: stage first, then the numbers."""
    if not progress:
        return "no progress reported yet"
    parts = []
    stage = progress.get("stage")
    if stage:
        parts.append(str(stage))
    for key, value in progress.items():
        if key == "stage" or isinstance(value, dict | list):
            continue
        parts.append(f"{key}={value}")
    return ", ".join(parts)[:500]


@dataclass(frozen=True)
class Launch:
    """What one launch needs, decided before anything remote happens."""

    execution_id: str
    name: str
    paths: RemotePaths
    config: Any  # the validated TaskConfig
    payload: bytes
    secrets: dict[str, str]
    dag_id: str
    task_id: str
    run_id: str
    try_number: int
    map_index: int
