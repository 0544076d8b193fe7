"""Settings fail fast, naming each missing or placeholder variable, never echoing it."""

from __future__ import annotations

import pytest
from heartbeat_api.settings import MissingSettings, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "HEARTBEAT_SECRET",
        "HEARTBEAT_ADMIN_TOKEN",
        "HEARTBEAT_REDIS_URL",
        "HEARTBEAT_RETENTION_SECONDS",
        "HEARTBEAT_MAX_BODY_BYTES",
    ):
        monkeypatch.delenv(name, raising=False)


def test_missing_secrets_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(MissingSettings) as caught:
        load_settings()
    message = str(caught.value)
    assert "HEARTBEAT_SECRET is not set" in message
    assert "HEARTBEAT_ADMIN_TOKEN is not set" in message


def test_placeholder_refused_without_echo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEARTBEAT_SECRET", "ChangeMe")
    monkeypatch.setenv("HEARTBEAT_ADMIN_TOKEN", "a-real-admin-token-123")
    with pytest.raises(MissingSettings) as caught:
        load_settings()
    assert "HEARTBEAT_SECRET" in str(caught.value)
    assert "ChangeMe" not in str(caught.value)


def test_defaults_and_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEARTBEAT_SECRET", "a-real-signing-secret-1")
    monkeypatch.setenv("HEARTBEAT_ADMIN_TOKEN", "a-real-admin-token-123")
    settings = load_settings()
    assert settings.redis_url == "redis://localhost:6379/0"
    assert settings.retention_seconds == 7 * 24 * 3600
    assert settings.max_body_bytes == 64 * 1024
    assert "a-real-signing-secret-1" not in repr(settings)
    monkeypatch.setenv("HEARTBEAT_RETENTION_SECONDS", "3600")
    monkeypatch.setenv("HEARTBEAT_MAX_BODY_BYTES", "2048")
    settings = load_settings()
    assert (settings.retention_seconds, settings.max_body_bytes) == (3600, 2048)
