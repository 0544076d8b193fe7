"""Who may open the live view: pure logic, no I/O.

The admin token (or, when configured, the viewer token) opens it, sent as
``Authorization: Bearer`` or typed once into the login form, which then sets a signed
session cookie. The cookie never holds a token: it holds the role and an expiry, signed
with a key derived from HEARTBEAT_SECRET and the admin token, so rotating either logs
everyone out. An execution token never opens it: a container holds one, and it must not
be able to watch or cancel anything.
"""

from __future__ import annotations

import hashlib
import hmac
from enum import StrEnum

from heartbeat_api.auth import bearer_token, looks_like_execution_token, token_matches

SESSION_COOKIE = "heartbeat_live_view"


class Role(StrEnum):
    ADMIN = "admin"  # sees everything, may cancel
    VIEWER = "viewer"  # sees everything, may not cancel


class Refusal(StrEnum):
    MISSING = "missing"
    EXECUTION_TOKEN = "execution_token"
    INVALID = "invalid"


REFUSAL_MESSAGES = {
    Refusal.MISSING: "log in with the admin token to open the live view",
    Refusal.EXECUTION_TOKEN: (
        "an execution token cannot open the live view; use the admin token "
        "(HEARTBEAT_ADMIN_TOKEN) or the viewer token (HEARTBEAT_UI_VIEWER_TOKEN)"
    ),
    Refusal.INVALID: "that is not the admin token (nor the viewer token)",
}


def role_for_token(token: str, *, admin_token: str, viewer_token: str | None) -> Role | Refusal:
    """The role a presented token grants, or why it grants none."""
    if not token:
        return Refusal.MISSING
    if token_matches(admin_token, token):
        return Role.ADMIN
    if viewer_token and token_matches(viewer_token, token):
        return Role.VIEWER
    if looks_like_execution_token(token):
        return Refusal.EXECUTION_TOKEN
    return Refusal.INVALID


def session_key(secret: str, admin_token: str) -> bytes:
    # A NUL byte cannot be in an execution id, so no execution token equals this key.
    return hmac.new(
        secret.encode(), b"live-view-session\x00" + admin_token.encode(), hashlib.sha256
    ).digest()


def _signature(key: bytes, role: Role, expires_at: int) -> str:
    return hmac.new(key, f"{role.value}.{expires_at}".encode(), hashlib.sha256).hexdigest()


def make_session(key: bytes, role: Role, expires_at: int) -> str:
    """The cookie value: ``role.expiry.signature``."""
    return f"{role.value}.{expires_at}.{_signature(key, role, expires_at)}"


def read_session(key: bytes, cookie: str | None, now: float) -> Role | None:
    """The role of a cookie that is well signed and not expired, else None."""
    if not cookie:
        return None
    parts = cookie.split(".")
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    try:
        role = Role(parts[0])
    except ValueError:
        return None
    expires_at = int(parts[1])
    if expires_at <= now:
        return None
    if not token_matches(_signature(key, role, expires_at), parts[2]):
        return None
    return role


def request_role(
    authorization: str | None,
    cookie: str | None,
    *,
    admin_token: str,
    viewer_token: str | None,
    key: bytes,
    now: float,
) -> Role | Refusal:
    """The caller's role: a bearer token decides when sent, else the session cookie."""
    if authorization:
        token = bearer_token(authorization)
        if token is None:
            return Refusal.INVALID
        return role_for_token(token, admin_token=admin_token, viewer_token=viewer_token)
    role = read_session(key, cookie, now)
    return role if role is not None else Refusal.MISSING


def safe_next(target: str | None) -> str:
    """Where to go after logging in: a path of the live view only (no open redirect)."""
    if target and target.startswith("/ui") and "//" not in target and "\\" not in target:
        return target
    return "/ui"
