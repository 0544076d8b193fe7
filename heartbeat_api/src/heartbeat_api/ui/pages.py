"""The HTML pages and static files of the live view, read from package data.

The pages are shells: the browser fills them from the event stream. Values put into
HTML are escaped; the page config travels as JSON in a non-executed script element.
"""

from __future__ import annotations

import html
from functools import cache
from importlib import resources
from string import Template
from typing import Any

import orjson
from fastapi.responses import HTMLResponse

from heartbeat_api.ui.access import Role

_STATIC_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
}
_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    # No frame-ancestors: the Airflow UI embeds this page as an external view.
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'"
    ),
}


@cache
def _template(name: str) -> Template:
    text = resources.files("heartbeat_api.ui").joinpath("templates", name).read_text("utf-8")
    return Template(text)


@cache
def _static_files() -> dict[str, tuple[bytes, str]]:
    folder = resources.files("heartbeat_api.ui").joinpath("static")
    files: dict[str, tuple[bytes, str]] = {}
    for entry in folder.iterdir():
        suffix = entry.name[entry.name.rfind(".") :]
        if entry.is_file() and suffix in _STATIC_TYPES:
            files[entry.name] = (entry.read_bytes(), _STATIC_TYPES[suffix])
    return files


def static(name: str) -> tuple[bytes, str] | None:
    """A static file's bytes and media type, or None for any other name."""
    return _static_files().get(name)


def _config_json(config: dict[str, Any]) -> str:
    # "<" escaped so no value can close the script element.
    return orjson.dumps(config).decode().replace("<", "\\u003c")


def _page(template: str, status: int = 200, **values: str) -> HTMLResponse:
    body = _template(template).substitute(values)
    return HTMLResponse(body, status_code=status, headers=_HEADERS)


def list_page(*, role: Role, timeout: float) -> HTMLResponse:
    config = {"view": "list", "role": role.value, "timeout": timeout}
    return _page("list.html", config=_config_json(config), role=html.escape(role.value))


def detail_page(*, role: Role, timeout: float, execution_id: str) -> HTMLResponse:
    config = {
        "view": "detail",
        "role": role.value,
        "timeout": timeout,
        "execution_id": execution_id,
    }
    return _page(
        "detail.html",
        config=_config_json(config),
        role=html.escape(role.value),
        execution_id=html.escape(execution_id),
    )


def login_page(*, next_path: str, error: str | None = None, status: int = 200) -> HTMLResponse:
    error_html = f'<p class="error" role="alert">{html.escape(error)}</p>' if error else ""
    return _page("login.html", status, next=html.escape(next_path), error=error_html)


def refusal(message: str, status: int) -> HTMLResponse:
    return _page("refused.html", status, message=html.escape(message))
