"""Who may open the live view: tokens, session cookies, redirects."""

from __future__ import annotations

import pytest
from heartbeat_api.auth import execution_token
from heartbeat_api.ui.access import (
    Refusal,
    Role,
    make_session,
    read_session,
    request_role,
    role_for_token,
    safe_next,
    session_key,
)

ADMIN = "admin-token-0123456789abcdef"
VIEWER = "viewer-token-0123456789abcdef"
SECRET = "signing-secret-0123456789abcdef"
KEY = session_key(SECRET, ADMIN)


def test_tokens_grant_roles() -> None:
    assert role_for_token(ADMIN, admin_token=ADMIN, viewer_token=VIEWER) is Role.ADMIN
    assert role_for_token(VIEWER, admin_token=ADMIN, viewer_token=VIEWER) is Role.VIEWER
    assert role_for_token(VIEWER, admin_token=ADMIN, viewer_token=None) is Refusal.INVALID
    assert role_for_token("", admin_token=ADMIN, viewer_token=None) is Refusal.MISSING


def test_an_execution_token_is_refused_as_such() -> None:
    token = execution_token(SECRET, "exec-1")
    assert role_for_token(token, admin_token=ADMIN, viewer_token=VIEWER) is (
        Refusal.EXECUTION_TOKEN
    )


def test_session_round_trip_expiry_and_tampering() -> None:
    cookie = make_session(KEY, Role.VIEWER, 2000)
    assert ADMIN not in cookie and SECRET not in cookie
    assert read_session(KEY, cookie, now=1999.0) is Role.VIEWER
    assert read_session(KEY, cookie, now=2000.0) is None  # expired
    role, expires, signature = cookie.split(".")
    assert read_session(KEY, f"admin.{expires}.{signature}", now=1000.0) is None
    assert read_session(KEY, f"{role}.9999.{signature}", now=1000.0) is None
    assert read_session(KEY, "garbage", now=1000.0) is None
    assert read_session(KEY, None, now=1000.0) is None


def test_rotating_the_admin_token_ends_sessions() -> None:
    cookie = make_session(KEY, Role.ADMIN, 2000)
    assert read_session(session_key(SECRET, "another-admin-token-0123"), cookie, 1000) is None


def test_bearer_header_decides_over_the_cookie() -> None:
    cookie = make_session(KEY, Role.ADMIN, 2000)
    kwargs = {"admin_token": ADMIN, "viewer_token": None, "key": KEY, "now": 1000.0}
    assert request_role(None, cookie, **kwargs) is Role.ADMIN  # type: ignore[arg-type]
    token = execution_token(SECRET, "exec-1")
    assert request_role(f"Bearer {token}", cookie, **kwargs) is (  # type: ignore[arg-type]
        Refusal.EXECUTION_TOKEN
    )
    assert request_role("Basic abc", cookie, **kwargs) is Refusal.INVALID  # type: ignore[arg-type]
    assert request_role(None, None, **kwargs) is Refusal.MISSING  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/ui/executions/a?timeout=5", "/ui/executions/a?timeout=5"),
        (None, "/ui"),
        ("https://evil.example/ui", "/ui"),
        ("//evil.example", "/ui"),
        ("/ui//evil", "/ui"),
        ("/api/v1/monitoring/executions", "/ui"),
    ],
)
def test_login_redirects_only_within_the_live_view(target: str | None, expected: str) -> None:
    assert safe_next(target) == expected
