"""Service settings from the environment (``HEARTBEAT_*``), validated at startup."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_PLACEHOLDERS = frozenset({"", "changeme", "change-me", "secret", "please-change"})


class Settings(BaseSettings):
    """``HEARTBEAT_SECRET`` and ``HEARTBEAT_ADMIN_TOKEN`` have no default on purpose."""

    model_config = SettingsConfigDict(env_prefix="HEARTBEAT_", frozen=True, extra="ignore")

    redis_url: str = "redis://localhost:6379/0"
    secret: SecretStr = Field(min_length=16)
    admin_token: SecretStr = Field(min_length=16)
    retention_seconds: int = Field(default=7 * 24 * 3600, ge=60)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024, le=16 * 1024 * 1024)
    stream_maxlen: int = Field(default=1000, ge=10)
    # Seconds between sweeps declaring lost the executions that never started.
    sweep_interval: float = Field(default=15.0, gt=0, le=3600)
    global_stream_maxlen: int = Field(default=100_000, ge=100)
    # Seconds to wait for Redis before answering 503.
    redis_connect_timeout: float = Field(default=1.0, gt=0)
    redis_timeout: float = Field(default=2.0, gt=0)
    log_level: str = "INFO"

    @field_validator("secret", "admin_token")
    @classmethod
    def _not_a_placeholder(cls, value: SecretStr) -> SecretStr:
        if value.get_secret_value().strip().lower() in _PLACEHOLDERS:
            raise ValueError("is a placeholder; set a random value (e.g. `openssl rand -hex 32`)")
        return value


class MissingSettings(RuntimeError):
    """The environment lacks a required setting; the message says which and what to do."""


def load_settings() -> Settings:
    """Reads the environment; raises MissingSettings naming each bad variable."""
    from pydantic import ValidationError

    try:
        return Settings()  # type: ignore[call-arg]  # values come from the environment
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = "HEARTBEAT_" + "_".join(str(part) for part in error["loc"]).upper()
            reason = "is not set" if error["type"] == "missing" else error["msg"]
            problems.append(f"{name} {reason}")
        raise MissingSettings(
            "heartbeat API cannot start: "
            + "; ".join(problems)
            + ". HEARTBEAT_SECRET signs execution tokens and HEARTBEAT_ADMIN_TOKEN guards "
            "registration, reads and cancel; set both to random strings of 16+ characters."
        ) from None


@lru_cache(maxsize=1)
def cached_settings() -> Settings:
    return load_settings()
