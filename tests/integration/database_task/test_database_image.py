"""The real data-collection-database:latest image, run with `docker run --network host`,
syncing PostgreSQL to PostgreSQL and reporting to the real heartbeat API."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from dbsync_sides import PLAIN_DDL, Side, fill_plain, plain_rows

pytestmark = pytest.mark.integration

IMAGE = "data-collection-database:latest"
REPO = Path(__file__).resolve().parents[3]
ADMIN_TOKEN = "database-image-test-admin-token-0123456789"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what}"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def database_image() -> str:
    """The image; built with scripts/build_images.sh when it is not there yet."""
    if subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True).returncode:
        env = {**os.environ, "PATH": f"{Path.home()}/.local/bin:{os.environ['PATH']}"}
        build = subprocess.run(
            ["scripts/build_images.sh", "database"],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        assert build.returncode == 0, build.stderr[-2000:]
    return IMAGE


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """python -m heartbeat_api on its own redis-server; an admin client for it."""
    logs = tmp_path_factory.mktemp("api")
    redis_port, api_port = _free_port(), _free_port()
    redis_log, api_log = (logs / "redis.log").open("wb"), (logs / "api.log").open("wb")
    redis = subprocess.Popen(
        ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no"],
        stdout=redis_log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    env = {
        **os.environ,
        "HEARTBEAT_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "HEARTBEAT_SECRET": "database-image-test-secret-0123456789",
        "HEARTBEAT_ADMIN_TOKEN": ADMIN_TOKEN,
    }
    server = subprocess.Popen(
        [str(REPO / ".venv/bin/python"), "-m", "heartbeat_api", "--port", str(api_port)],
        env=env, stdout=api_log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    client = httpx.Client(
        base_url=f"http://127.0.0.1:{api_port}",
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        timeout=10,
    )

    def healthy() -> bool:
        assert server.poll() is None, (logs / "api.log").read_text()[-2000:]
        try:
            return bool(client.get("/healthz").status_code == 200)
        except httpx.HTTPError:
            return False

    try:
        _wait_until(healthy, 30, "the heartbeat API")
        yield client
    finally:
        client.close()
        for process in (server, redis):
            process.terminate()
            process.wait(10)
        redis_log.close()
        api_log.close()


def _run_container(
    api: httpx.Client, config: dict[str, Any], work: Path, env: dict[str, str]
) -> tuple[str, Path, subprocess.CompletedProcess[bytes]]:
    answer = api.post("/api/v1/monitoring/executions", json={})
    assert answer.status_code == 201, answer.text
    execution_id, token = answer.json()["execution_id"], answer.json()["token"]
    out = work / "out"
    out.mkdir(parents=True)
    config_file = work / "config.json"
    config_file.write_text(json.dumps(config), encoding="utf-8")
    secrets = [item for key, value in env.items() for item in ("-e", f"{key}={value}")]
    command = [
        "docker", "run", "--rm", "--name", f"task-{execution_id}", "--network", "host",
        "--user", f"{os.getuid()}:{os.getgid()}",
        "-v", f"{config_file}:/app/config.json:ro", "-v", f"{out}:/app/output",
        "-e", f"TASK_EXECUTION_ID={execution_id}", "-e", f"HOSTNAME=task-{execution_id}",
        "-e", f"API_BASE_URL={api.base_url}", "-e", f"HEARTBEAT_TOKEN={token}",
        "-e", "HEARTBEAT_INTERVAL=1", *secrets, IMAGE,
    ]  # fmt: skip
    return execution_id, out, subprocess.run(command, capture_output=True, timeout=180)


def test_the_image_syncs_postgresql_to_postgresql(
    database_image: str, api: httpx.Client, sides: dict[str, Side],
    table_name: Callable[[], str], tmp_path: Path,
) -> None:  # fmt: skip
    src, tgt = sides["pg_src"], sides["pg_tgt"]
    table = table_name()
    src.execute(PLAIN_DDL["pg"].format(t=table))
    fill_plain(src, table, range(1, 301))
    config = {
        "task_name": "pg copy",
        "task_type": "database",
        "docker_image": IMAGE,
        "storage_config": {"output_path": "/app/output", "filename_prefix": "pgcopy"},
        "database_config": {
            "source": {"url_env": "SOURCE_DB_URL"},
            "target": {"url_env": "TARGET_DB_URL"},
            "tables": [{"name": table, "mode": "incremental", "cursor_column": "updated_at"}],
            "batch_size": 100,
        },
    }
    # A password in the URL (trust auth ignores it) must not show up anywhere.
    secret = "Im4ge-Secret-pw"
    urls = {
        "SOURCE_DB_URL": src.url.replace("postgres@", f"postgres:{secret}@"),
        "TARGET_DB_URL": tgt.url.replace("postgres@", f"postgres:{secret}@"),
    }

    execution_id, out, run = _run_container(api, config, tmp_path, urls)

    logs = (run.stdout + run.stderr).decode()
    assert run.returncode == 0, logs[-3000:]
    assert plain_rows(tgt, table) == plain_rows(src, table)
    status = api.get(f"/api/v1/task/execution/{execution_id}/status").json()
    assert status["status"] == "completed", status
    entry = status["result_data"]["tables"][table]
    assert (entry["rows_read"], entry["rows_inserted"], entry["batches"]) == (300, 300, 3)
    assert "COPY" in entry["path"]
    assert status["progress"]["tables"][table]["rows_read"] == 300
    written = json.loads((out / "pgcopy_sync_result.json").read_text())
    assert written["tables"][table]["rows_read"] == 300
    for text in (logs, json.dumps(status), (out / "_completion.json").read_text()):
        assert secret not in text
