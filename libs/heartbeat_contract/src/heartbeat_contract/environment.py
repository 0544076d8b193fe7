"""The container's environment and mounts (docs/contracts/environment.md)."""

from __future__ import annotations

TASK_EXECUTION_ID = "TASK_EXECUTION_ID"
CONFIG_PATH = "CONFIG_PATH"
API_BASE_URL = "API_BASE_URL"
HOSTNAME = "HOSTNAME"
HEARTBEAT_TOKEN = "HEARTBEAT_TOKEN"
HEARTBEAT_INTERVAL = "HEARTBEAT_INTERVAL"
OUTPUT_DIR = "OUTPUT_DIR"
TASK_TRY_NUMBER = "TASK_TRY_NUMBER"

DEFAULT_CONFIG_PATH = "/app/config.json"
DEFAULT_OUTPUT_DIR = "/app/output"
DEFAULT_HEARTBEAT_INTERVAL = 5.0

# Set by the operator for every container; a task's own variables may not use them.
RESERVED: frozenset[str] = frozenset(
    {TASK_EXECUTION_ID, CONFIG_PATH, API_BASE_URL, HOSTNAME, HEARTBEAT_TOKEN,
     HEARTBEAT_INTERVAL, OUTPUT_DIR}
)
# Values that must never reach a log line or an error message.
SECRET_NAMES: frozenset[str] = frozenset({HEARTBEAT_TOKEN})
