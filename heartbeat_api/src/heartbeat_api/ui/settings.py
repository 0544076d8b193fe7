"""Settings of the live view (``HEARTBEAT_UI_*``); all optional."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class UiSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HEARTBEAT_UI_", frozen=True, extra="ignore")

    # Seconds without a heartbeat at which a running execution shows red (the same
    # value as the operator's heartbeat timeout); `?timeout=` on the page overrides it.
    heartbeat_timeout: float = Field(default=30.0, gt=0, le=86400)
    # A second token that may watch but not cancel; unset means admin only.
    viewer_token: SecretStr | None = Field(default=None, min_length=16)
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    # Mark the session cookie Secure (set this when the API is served over HTTPS).
    secure_cookie: bool = False
    list_limit: int = Field(default=200, ge=1, le=1000)
    history_count: int = Field(default=500, ge=10, le=5000)
    # An event stream ends after this long and the browser reconnects on its own, so a
    # server shutdown never waits on an open page for longer.
    stream_seconds: float = Field(default=120.0, ge=5, le=3600)
    keepalive_seconds: float = Field(default=15.0, gt=0, le=300)
