"""Airflow plugin: the live view of executions in the Airflow UI's navigation.

Registered through the ``airflow.plugins`` entry point. The page itself is served by the
heartbeat API (``/ui``); Airflow shows it in a frame at ``/plugin/heartbeat-executions``.
Its address is, in order: the Airflow setting ``[heartbeat_operator] ui_url`` (env
``AIRFLOW__HEARTBEAT_OPERATOR__UI_URL``), the ``heartbeat_api`` connection (extra
``ui_url``, else its host and port), or ``http://localhost:8000/ui``. It is resolved
when the API server first lists the UI plugins, not on import, so no other Airflow
component reads the connection.
"""

from __future__ import annotations

import logging
from typing import Any

from airflow.plugins_manager import AirflowPlugin

from heartbeat_operator.links import (
    DEFAULT_CONN_ID,
    DEFAULT_UI_URL,
    ui_url_from_connection,
)

log = logging.getLogger(__name__)

URL_ROUTE = "heartbeat-executions"


def external_view(ui_url: str) -> dict[str, Any]:
    """The nav entry (Airflow 3 ``external_views``) embedding the live view."""
    base = ui_url.rstrip("/")
    return {
        "name": "Executions (live)",
        "href": base,
        "url_route": URL_ROUTE,
        "destination": "nav",
        "category": "browse",
        "nav_top_level": True,
        "icon": f"{base}/static/icon.svg",
    }


def resolve_ui_url() -> str:
    """The live view's address (see the module docstring); never raises."""
    from airflow.configuration import conf

    configured = conf.get("heartbeat_operator", "ui_url", fallback=None)
    if configured:
        return str(configured).rstrip("/")
    try:
        from airflow.sdk import BaseHook

        return ui_url_from_connection(BaseHook.get_connection(DEFAULT_CONN_ID))
    except Exception as exc:  # a missing connection must not break the UI
        log.warning(
            "Live view: connection %r unavailable (%s); linking %s. Set its extra "
            "'ui_url' or [heartbeat_operator] ui_url.",
            DEFAULT_CONN_ID,
            type(exc).__name__,
            DEFAULT_UI_URL,
        )
        return DEFAULT_UI_URL


class _LazyExternalViews:
    """``external_views`` computed on first read (by the API server), then kept."""

    def __init__(self) -> None:
        self._views: list[dict[str, Any]] | None = None

    def __get__(self, instance: object, owner: type | None = None) -> list[dict[str, Any]]:
        if self._views is None:
            self._views = [external_view(resolve_ui_url())]
        return self._views


class HeartbeatLiveViewPlugin(AirflowPlugin):
    name = "heartbeat_live_view"
    external_views = _LazyExternalViews()
