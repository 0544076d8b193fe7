"""Output files written record by record (memory does not grow with the crawl)
into a hidden temp file that is renamed into place when closed, so a reader
never sees a half-written file under the final name."""

from __future__ import annotations

import csv
import json
import os
import time
from pathlib import Path
from typing import IO, Any

from task_config.crawler import PAGE_URL_KEY

_BUFFER = 1024 * 1024


def _json_line(record: dict[str, Any]) -> str:
    return json.dumps(record, ensure_ascii=False, separators=(",", ":"), default=str)


class RecordWriter:
    """Writes records as json (one array), jsonl or csv; `close()` always leaves
    a valid file, also after a cancel or an error midway."""

    def __init__(self, directory: Path, prefix: str, fmt: str, fields: list[str]) -> None:
        self.format = fmt
        self.records = 0
        directory.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        path = directory / f"{prefix}_{stamp}.{fmt}"
        counter = 1
        while path.exists():
            counter += 1
            path = directory / f"{prefix}_{stamp}_{counter}.{fmt}"
        self.path = path
        self._temp = directory / f".{path.name}.part"
        self._file: IO[str] = open(  # closed in close()
            self._temp, "w", encoding="utf-8", newline="", buffering=_BUFFER
        )
        self._columns = [*fields, PAGE_URL_KEY]
        self._csv: Any = None
        if fmt == "json":
            self._file.write("[")
        elif fmt == "csv":
            self._csv = csv.writer(self._file)
            self._csv.writerow(self._columns)
        self.closed = False

    def write(self, record: dict[str, Any]) -> None:
        if self.format == "jsonl":
            self._file.write(_json_line(record) + "\n")
        elif self.format == "json":
            self._file.write(("\n" if self.records == 0 else ",\n") + _json_line(record))
        else:
            self._csv.writerow([_cell(record.get(column)) for column in self._columns])
        self.records += 1

    def close(self) -> int:
        """Finish the file, move it into place; its size in bytes."""
        if self.closed:
            return self.path.stat().st_size
        self.closed = True
        if self.format == "json":
            self._file.write("\n]\n" if self.records else "]\n")
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        os.replace(self._temp, self.path)
        return self.path.stat().st_size


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return value
