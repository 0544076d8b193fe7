"""The container's environment (docs/contracts/environment.md) and the task config file."""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from heartbeat_contract import environment

from ._errors import ConfigurationError

__all__ = [
    "ClientSettings",
    "config_path_from_env",
    "load_config",
    "output_dir_from_env",
    "settings_from_env",
]


@dataclass(frozen=True)
class ClientSettings:
    """Everything ``HeartbeatClient.from_env()`` reads from the environment."""

    api_base_url: str
    execution_id: str
    container_name: str
    token: str
    heartbeat_interval: float
    output_dir: str


def _required(env: Mapping[str, str], name: str, meaning: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigurationError(
            f"environment variable {name} is not set: it must hold {meaning}. "
            "The operator sets it when it starts the container; set it yourself "
            "when running the task by hand."
        )
    return value


def parse_interval(raw: str | float, source: str) -> float:
    """A heartbeat interval in seconds: a positive number, named by ``source`` on error."""
    try:
        interval = float(raw)
    except (TypeError, ValueError):
        raise ConfigurationError(f"{source} must be a number of seconds, got {raw!r}") from None
    if not interval > 0 or interval != interval or interval == float("inf"):
        raise ConfigurationError(f"{source} must be a positive number of seconds, got {raw!r}")
    return interval


def check_api_base_url(url: str, source: str) -> str:
    """The API base URL without a trailing slash; it must be http(s)."""
    cleaned = url.strip().rstrip("/")
    if not cleaned.startswith(("http://", "https://")):
        raise ConfigurationError(
            f"{source} must be an http:// or https:// URL such as "
            f"http://heartbeat-api:8000, got {url!r}"
        )
    return cleaned


def settings_from_env(env: Mapping[str, str] | None = None) -> ClientSettings:
    """Read the container's variables; raise ConfigurationError naming a missing one."""
    source = os.environ if env is None else env
    execution_id = _required(
        source, environment.TASK_EXECUTION_ID, "the UUID of this execution"
    )
    api_base_url = check_api_base_url(
        _required(source, environment.API_BASE_URL, "the heartbeat API's base URL"),
        environment.API_BASE_URL,
    )
    token = _required(source, environment.HEARTBEAT_TOKEN, "this execution's bearer token")
    container_name = source.get(environment.HOSTNAME, "").strip() or socket.gethostname()
    raw_interval = source.get(environment.HEARTBEAT_INTERVAL, "").strip()
    interval = (
        parse_interval(raw_interval, environment.HEARTBEAT_INTERVAL)
        if raw_interval
        else environment.DEFAULT_HEARTBEAT_INTERVAL
    )
    return ClientSettings(
        api_base_url=api_base_url,
        execution_id=execution_id,
        container_name=container_name,
        token=token,
        heartbeat_interval=interval,
        output_dir=output_dir_from_env(source),
    )


def output_dir_from_env(env: Mapping[str, str] | None = None) -> str:
    """``$OUTPUT_DIR``, default /app/output."""
    source = os.environ if env is None else env
    return source.get(environment.OUTPUT_DIR, "").strip() or environment.DEFAULT_OUTPUT_DIR


def config_path_from_env(env: Mapping[str, str] | None = None) -> str:
    """``$CONFIG_PATH``, default /app/config.json."""
    source = os.environ if env is None else env
    return source.get(environment.CONFIG_PATH, "").strip() or environment.DEFAULT_CONFIG_PATH


def load_config(path: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The task config as a dict, from ``path`` or ``$CONFIG_PATH`` (default /app/config.json).

    Raises ConfigurationError naming the file when it is missing, unreadable,
    not JSON, or not a JSON object.
    """
    config_path = os.fspath(path) if path is not None else config_path_from_env()
    try:
        with open(config_path, encoding="utf-8") as handle:
            config = json.load(handle)
    except FileNotFoundError:
        raise ConfigurationError(
            f"task config {config_path} does not exist: mount it there or point "
            f"{environment.CONFIG_PATH} at it"
        ) from None
    except OSError as exc:
        raise ConfigurationError(
            f"task config {config_path} cannot be read ({exc.strerror}): check its "
            "permissions for this container's user"
        ) from None
    except (UnicodeDecodeError, ValueError) as exc:
        raise ConfigurationError(f"task config {config_path} is not valid JSON: {exc}") from None
    if not isinstance(config, dict):
        raise ConfigurationError(
            f"task config {config_path} must hold a JSON object, found {type(config).__name__}"
        )
    return config
