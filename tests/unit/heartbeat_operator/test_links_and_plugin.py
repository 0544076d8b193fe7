"""The Airflow side of the live view: the task's extra link and the nav entry."""

from __future__ import annotations

import pytest
from heartbeat_operator.links import execution_url, ui_base_url
from heartbeat_operator.plugin import URL_ROUTE, HeartbeatLiveViewPlugin, external_view


@pytest.mark.parametrize(
    ("host", "port", "schema", "extra", "expected"),
    [
        ("api", 8000, None, {"ui_url": "https://watch.example/ui/"}, "https://watch.example/ui"),
        ("api", 8000, None, {"ui_url": "http://127.0.0.1:8000"}, "http://127.0.0.1:8000/ui"),
        ("heartbeat-api", 8000, None, {}, "http://heartbeat-api:8000/ui"),
        ("api.example", None, "https", {}, "https://api.example/ui"),
        ("http://api.example:9000/", None, None, {}, "http://api.example:9000/ui"),
        (None, None, None, {}, "http://localhost:8000/ui"),
    ],
)
def test_ui_base_url(
    host: str | None, port: int | None, schema: str | None, extra: dict[str, str], expected: str
) -> None:
    assert ui_base_url(host=host, port=port, schema=schema, extra=extra) == expected


def test_execution_url_quotes_the_id() -> None:
    assert execution_url("http://h:8000/ui/", "a b/c") == "http://h:8000/ui/executions/a%20b%2Fc"


def test_external_view_is_an_airflow_3_nav_entry() -> None:
    view = external_view("http://h:8000/ui/")
    assert view["href"] == "http://h:8000/ui" and view["destination"] == "nav"
    assert view["url_route"] == URL_ROUTE and view["icon"].endswith("/ui/static/icon.svg")
    assert HeartbeatLiveViewPlugin.name == "heartbeat_live_view"
