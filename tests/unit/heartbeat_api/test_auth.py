"""Execution tokens and bearer parsing."""

from __future__ import annotations

import hashlib
import hmac

from heartbeat_api.auth import (
    bearer_token,
    execution_token,
    looks_like_execution_token,
    token_matches,
)


def test_execution_token_is_hmac_sha256_hex_of_the_id() -> None:
    expected = hmac.new(b"secret-key", b"exec-1", hashlib.sha256).hexdigest()
    assert execution_token("secret-key", "exec-1") == expected
    assert execution_token("secret-key", "exec-2") != expected
    assert execution_token("other-key", "exec-1") != expected
    assert looks_like_execution_token(expected)
    assert not looks_like_execution_token(expected.upper())
    assert not looks_like_execution_token(expected[:-1])


def test_bearer_token_parsing() -> None:
    assert bearer_token("Bearer abc") == "abc"
    assert bearer_token("bearer  abc ") == "abc"
    assert bearer_token(None) is None
    assert bearer_token("") is None
    assert bearer_token("Bearer") is None
    assert bearer_token("Bearer   ") is None
    assert bearer_token("Basic abc") is None


def test_token_matches() -> None:
    assert token_matches("abc", "abc")
    assert not token_matches("abc", "abd")
    assert not token_matches("abc", "ab")
