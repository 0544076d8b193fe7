"""Progress for the heartbeat: per table rows read, an estimate of the total, speed."""

from __future__ import annotations

import time
from typing import Any

from heartbeat_client import Reporter
from heartbeat_contract import states

__all__ = ["Progress", "Reporter"]

# The SDK sends at most about one progress a second; offering one every half second
# keeps what it sends fresh without building dicts for every batch.
_MIN_INTERVAL = 0.5
# A table that is done: copied, or stopped on request at a batch boundary.
_DONE = (states.COMPLETED, states.CANCELLED)


class Progress:
    def __init__(self, reporter: Reporter, tables: list[str]) -> None:
        self._reporter = reporter
        self._last = 0.0
        self.tables: dict[str, dict[str, Any]] = {
            name: {"status": states.PENDING, "rows_read": 0, "rows_estimated": None, "batches": 0}
            for name in tables
        }
        self.current: str | None = None

    def start(self, table: str, estimate: int | None, path: str) -> None:
        self.current = table
        self.tables[table].update(status=states.RUNNING, rows_estimated=estimate, path=path)
        self.emit(force=True)

    def advance(self, table: str, rows_read: int, batches: int, seconds: float) -> None:
        entry = self.tables[table]
        entry.update(rows_read=rows_read, batches=batches)
        entry["rows_per_second"] = round(rows_read / seconds) if seconds > 0 else None
        estimate = entry.get("rows_estimated")
        if estimate is not None and rows_read > estimate:
            entry["rows_estimated"] = rows_read  # rows arrived since the count
        self.emit()

    def finish(self, table: str, status: str) -> None:
        self.tables[table]["status"] = status
        self.emit(force=True)

    def emit(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < _MIN_INTERVAL:
            return
        self._last = now
        done = sum(1 for t in self.tables.values() if t["status"] in _DONE)
        self._reporter(
            {
                "stage": "syncing",
                "table": self.current,
                "tables_done": done,
                "tables_total": len(self.tables),
                "rows_done": sum(t["rows_read"] for t in self.tables.values()),
                "tables": {name: dict(entry) for name, entry in self.tables.items()},
            }
        )
