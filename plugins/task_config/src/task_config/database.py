"""`database_config` of the task config (DESIGN.md, Contract 2)."""

from __future__ import annotations

from task_config._base import StrictModel


class DatabaseConfig(StrictModel):
    """Placeholder until the database image lands."""
