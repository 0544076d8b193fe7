"""The output file: records streamed to a hidden part file, renamed into place when
closed, so a reader never sees a half-written file under the final name."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, BinaryIO, Literal

import orjson

OutputFormat = Literal["json", "jsonl"]


def _dump_many(records: list[Any]) -> bytes:
    """`[r1,r2,...]` as bytes; orjson first, the standard library for what it refuses
    (integers beyond 64 bits)."""
    try:
        return orjson.dumps(records)
    except TypeError:
        return json.dumps(records, separators=(",", ":"), ensure_ascii=False).encode()


def _dump_line(record: Any) -> bytes:
    try:
        return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)
    except TypeError:
        return json.dumps(record, separators=(",", ":"), ensure_ascii=False).encode() + b"\n"


class OutputWriter:
    def __init__(
        self,
        directory: Path,
        name: str,
        output_format: OutputFormat,
        scrub: Callable[[bytes], bytes] | None = None,
    ) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.path = directory / name
        self._part = directory / f".{name}.part"
        self._format = output_format
        self._scrub = scrub
        self.records = 0
        self._file: BinaryIO | None = open(self._part, "wb", buffering=1 << 20)  # noqa: SIM115
        if output_format == "json":
            self._file.write(b"[")

    def write(self, records: list[Any]) -> None:
        if not records or self._file is None:
            return
        if self._format == "jsonl":
            chunk = b"".join([_dump_line(record) for record in records])
        else:
            chunk = _dump_many(records)[1:-1]
            if self.records:
                chunk = b"," + chunk
        if self._scrub is not None:
            chunk = self._scrub(chunk)
        self._file.write(chunk)
        self.records += len(records)

    def close(self) -> None:
        """Finish the file (a valid document, even when the run stops early) and move it
        into place. Idempotent."""
        if self._file is None:
            return
        file, self._file = self._file, None
        try:
            if self._format == "json":
                file.write(b"]\n")
            file.flush()
            os.fsync(file.fileno())
        finally:
            file.close()
        os.replace(self._part, self.path)
