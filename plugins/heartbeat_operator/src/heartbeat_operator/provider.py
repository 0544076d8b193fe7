"""Provider metadata, so Airflow (and its triggerer) discovers this package."""

from __future__ import annotations

from typing import Any


def get_provider_info() -> dict[str, Any]:
    return {
        "package-name": "heartbeat-operator",
        "name": "Heartbeat Docker",
        "description": "Run data-collection containers on remote hosts and watch their heartbeats.",
        "versions": ["0.1.0"],
    }
