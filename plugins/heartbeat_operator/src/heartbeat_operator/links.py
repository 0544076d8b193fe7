"""The extra link of a HeartbeatDockerOperator task run: its execution in the live view.

The execution id comes from the task's XCom ``execution_id``; the live view's address
from the heartbeat API connection: its extra ``ui_url`` (the address a browser uses,
e.g. ``http://heartbeat.example.com:8000/ui``) or else its scheme, host and port.
Airflow 3 computes the link in the worker when the task defers or ends, and stores it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from airflow.sdk import BaseHook, BaseOperatorLink
from heartbeat_contract import http

EXECUTION_ID_XCOM_KEY = "execution_id"
DEFAULT_CONN_ID = "heartbeat_api"
DEFAULT_UI_URL = f"http://localhost:8000{http.UI}"


def ui_base_url(
    *, host: str | None, port: int | None, schema: str | None, extra: dict[str, Any]
) -> str:
    """The live view's URL from a connection's parts; ``ui_url`` wins when set."""
    configured = str(extra.get("ui_url") or "").strip()
    if configured:
        path = urlsplit(configured).path
        base = configured.rstrip("/")
        # A bare server address means the live view at its usual path.
        return base if path.strip("/") else f"{base}{http.UI}"
    if not host:
        return DEFAULT_UI_URL
    if "://" in host:  # a host given as a URL
        return f"{host.rstrip('/')}{http.UI}"
    port_part = f":{port}" if port else ""
    return f"{schema or 'http'}://{host}{port_part}{http.UI}"


def execution_url(ui_url: str, execution_id: str) -> str:
    """The detail view of one execution."""
    return f"{ui_url.rstrip('/')}/executions/{quote(execution_id, safe='')}"


def ui_url_from_connection(conn: Any) -> str:
    return ui_base_url(
        host=conn.host, port=conn.port, schema=conn.schema, extra=conn.extra_dejson or {}
    )


class ExecutionLink(BaseOperatorLink):
    """ "Live view" button on a task run: the detail view of the execution it started."""

    name = "Live view"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        # Imported here: the XCom backend is resolved from the configuration on import.
        from airflow.sdk.execution_time.xcom import XCom

        execution_id = XCom.get_value(ti_key=ti_key, key=EXECUTION_ID_XCOM_KEY)
        if not execution_id:
            return ""  # not launched (yet): no button
        conn_id = getattr(operator, "heartbeat_api_conn_id", None) or DEFAULT_CONN_ID
        conn = BaseHook.get_connection(conn_id)
        return execution_url(ui_url_from_connection(conn), str(execution_id))
