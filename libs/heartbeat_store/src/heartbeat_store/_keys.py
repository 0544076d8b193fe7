"""Every Redis key name of the schema; nothing else spells one (see the package docstring)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Keys:
    prefix: str = "hb"

    def execution(self, execution_id: str) -> str:
        return f"{self.prefix}:exec:{execution_id}"

    def transitions(self, execution_id: str) -> str:
        return f"{self.execution(execution_id)}:transitions"

    def events(self, execution_id: str) -> str:
        return f"{self.execution(execution_id)}:events"

    @property
    def all_events(self) -> str:
        return f"{self.prefix}:events"

    @property
    def index(self) -> str:
        return f"{self.prefix}:executions"

    @property
    def start_deadlines(self) -> str:
        """Sorted set: a pending execution's id scored by when its first heartbeat is due."""
        return f"{self.prefix}:start_deadlines"

    def watch(self, task_instance: str) -> str:
        """String: which trigger instance watches a task instance now (a short lease)."""
        return f"{self.prefix}:watch:{task_instance}"

    def for_scripts(self, execution_id: str) -> list[str]:
        """KEYS of every Lua script: hash, transitions, stream, global stream, index,
        start deadlines."""
        return [
            self.execution(execution_id),
            self.transitions(execution_id),
            self.events(execution_id),
            self.all_events,
            self.index,
            self.start_deadlines,
        ]
