"""Shared pieces of the config models."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class StrictModel(BaseModel):
    """A config section: unknown keys are an error, so typos never pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)
