"""Faults for the end-to-end fault matrix, made to the real processes of the test bed:
freezing a process tree (SIGSTOP: a host or a Redis that stops answering, as behind a
network partition), killing one, and the times each fault took to show, kept for the
report."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

from e2e_support import STATE

TIMES = STATE / "logs" / "fault-matrix.jsonl"
# The stack's own Redis (scripts/stack.py).
STACK_REDIS_PORT = int(os.environ.get("STACK_REDIS_PORT", "6390"))


def pid_file(name: str) -> int:
    """The pid of a stack component (scripts/stack.py) or a test bed service."""
    for folder in (STATE / "pids", STATE / "started"):
        path = folder / name
        if path.exists():
            return int(path.read_text().strip())
    raise LookupError(f"{name} is not running (no pid file in {STATE})")


def process_tree(root: int) -> list[int]:
    """``root`` and every process descended from it."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


@contextlib.contextmanager
def frozen(root: int) -> Iterator[None]:
    """The process tree stops answering (its connections stay open, unanswered)."""
    tree = process_tree(root)
    for pid in tree:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in tree:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


def record(fault: str, seconds: float, left: str = "nothing") -> None:
    """One line of the fault matrix's report: the time from the fault to the task's
    new state, and what was left behind."""
    TIMES.parent.mkdir(parents=True, exist_ok=True)
    with TIMES.open("a") as out:
        out.write(json.dumps({"fault": fault, "seconds": round(seconds, 2), "left": left,
                              "at": time.time()}) + "\n")
