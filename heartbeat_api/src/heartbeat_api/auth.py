"""Tokens: an execution token is HMAC-SHA256(secret, execution_id) in hex.

A container holds the token of its own execution only, so it can write nothing else.
Every comparison is constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import re

_TOKEN_SHAPE = re.compile(r"[0-9a-f]{64}")


def execution_token(secret: str, execution_id: str) -> str:
    """The bearer token that lets a container write ``execution_id`` and nothing else."""
    return hmac.new(secret.encode(), execution_id.encode(), hashlib.sha256).hexdigest()


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def token_matches(expected: str, presented: str) -> bool:
    return hmac.compare_digest(expected.encode(), presented.encode())


def looks_like_execution_token(presented: str) -> bool:
    """A well-formed execution token (it may belong to another execution)."""
    return _TOKEN_SHAPE.fullmatch(presented) is not None
