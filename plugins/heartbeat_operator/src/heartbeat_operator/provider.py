"""Provider info: what this package ships, so Airflow's providers manager (and the
triggerer, the connection form, ``airflow providers list``) finds it without importing
it. Registered through the ``apache_airflow_provider`` entry point."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from heartbeat_operator import _api_connection, _task_log

PACKAGE = "heartbeat-operator"
INTEGRATION = "Heartbeat Docker"


def _version() -> str:
    try:
        return version(PACKAGE)
    except PackageNotFoundError:  # a source tree that is not installed
        return "0.0.0"


def _modules(*names: str) -> list[dict[str, Any]]:
    return [{"integration-name": INTEGRATION,
             "python-modules": [f"heartbeat_operator.{name}" for name in names]}]


def _config() -> dict[str, Any]:
    options = {
        "ui_url": {
            "description": "The live view's address for the Airflow UI's navigation entry "
            "(default: the heartbeat_api connection's ui_url, else its host and port).",
            "version_added": "0.1.0", "type": "string",
            "example": "https://heartbeat.example.com/ui", "default": None,
        },
        _task_log.LEVEL_OPTION: {
            "description": "Level of the SSH and HTTP libraries' loggers (asyncssh, httpx, "
            "httpcore, paramiko) in task and triggerer logs; INFO or DEBUG to debug a "
            "connection.",
            "version_added": "0.1.0", "type": "string", "example": "DEBUG",
            "default": _task_log.DEFAULT_LEVEL,
        },
    }
    return {_task_log.CONFIG_SECTION: {
        "description": "Options of the heartbeat-operator provider.", "options": options}}


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": PACKAGE,
        "name": INTEGRATION,
        "description": "Run data-collection containers on remote hosts and watch their "
                       "heartbeats.",
        "versions": [_version()],
        "integrations": [{"integration-name": INTEGRATION, "tags": ["software"]}],
        "operators": _modules("operators"),
        "hooks": _modules("hooks"),
        "triggers": _modules("triggers"),
        "connection-types": [{
            "connection-type": _api_connection.CONN_TYPE,
            "hook-class-name": "heartbeat_operator.hooks.HeartbeatApiHook",
            "hook-name": _api_connection.HOOK_NAME,
            "ui-field-behaviour": _api_connection.UI_FIELD_BEHAVIOUR,
            "conn-fields": _api_connection.CONN_FIELDS,
        }],
        "extra-links": ["heartbeat_operator.links.ExecutionLink"],
        "config": _config(),
    }
