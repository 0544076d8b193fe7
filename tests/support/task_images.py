"""Task images under test: built with scripts/build_images.sh when missing (or older
than their code), and run with ``docker run --network host`` the way the operator runs
them (the environment of docs/contracts/environment.md, the config mounted read-only,
an output directory),
reporting to a heartbeat API through its admin client.

Shared by the image tests of several parts (tests/support is on pytest's pythonpath).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parents[2]


def ensure_image(
    image: str, build_name: str, *, sources: Sequence[Path] = (), timeout: float = 900
) -> str:
    """``image``, built with ``scripts/build_images.sh build_name`` when it is not there
    yet or, when ``sources`` are given, when a .py file under them is newer than it."""
    if _missing_or_stale(image, sources):
        env = {**os.environ, "PATH": f"{Path.home()}/.local/bin:{os.environ['PATH']}"}
        build = subprocess.run(
            ["scripts/build_images.sh", build_name],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout,
        )  # fmt: skip
        assert build.returncode == 0, build.stderr[-2000:]
    return image


def _missing_or_stale(image: str, sources: Sequence[Path]) -> bool:
    inspect = subprocess.run(
        ["docker", "image", "inspect", "-f", "{{.Created}}", image], capture_output=True, text=True
    )
    if inspect.returncode:
        return True
    if not sources:
        return False
    created = subprocess.run(
        ["date", "-d", inspect.stdout.strip(), "+%s"], capture_output=True, text=True, check=True
    )
    built_at = int(created.stdout)
    newest = max(p.stat().st_mtime for root in sources for p in root.rglob("*.py"))
    return newest > built_at


@dataclass(frozen=True)
class TaskRun:
    """A registered execution and the ``docker run`` command that runs it."""

    execution_id: str
    name: str  # the container's name, also its HOSTNAME
    out: Path  # mounted at /app/output
    command: list[str]


def prepare_task_run(
    api: httpx.Client,
    config: dict[str, Any],
    work: Path,
    image: str,
    env: Mapping[str, str] | None = None,
) -> TaskRun:
    """Registers an execution through the admin client ``api``, writes ``config`` to
    ``work/config.json`` and makes ``work/out``. The command runs ``image`` as the
    current uid with the environment of docs/contracts/environment.md plus ``env``
    (the task's secrets)."""
    answer = api.post("/api/v1/monitoring/executions", json={})
    assert answer.status_code == 201, answer.text
    execution_id, token = answer.json()["execution_id"], answer.json()["token"]
    name = f"task-{execution_id}"
    out = work / "out"
    out.mkdir(parents=True)
    config_file = work / "config.json"
    config_file.write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
    extra = [item for key, value in (env or {}).items() for item in ("-e", f"{key}={value}")]
    command = [
        "docker", "run", "--rm", "--name", name, "--network", "host",
        "--user", f"{os.getuid()}:{os.getgid()}",
        "-v", f"{config_file}:/app/config.json:ro", "-v", f"{out}:/app/output",
        "-e", f"TASK_EXECUTION_ID={execution_id}", "-e", f"HOSTNAME={name}",
        "-e", f"API_BASE_URL={api.base_url}", "-e", f"HEARTBEAT_TOKEN={token}",
        "-e", "HEARTBEAT_INTERVAL=1", *extra, image,
    ]  # fmt: skip
    return TaskRun(execution_id, name, out, command)


def status_of(api: httpx.Client, execution_id: str) -> dict[str, Any]:
    answer = api.get(f"/api/v1/task/execution/{execution_id}/status")
    assert answer.status_code == 200, answer.text
    return dict(answer.json())
