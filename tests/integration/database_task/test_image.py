"""The real data-collection-database:latest image, run with `docker run --network host`,
syncing PostgreSQL to PostgreSQL and reporting to the real heartbeat API."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from dbsync_sides import PLAIN_DDL, Side, fill_plain, plain_rows
from heartbeat_servers import admin_client_on_own_redis
from task_images import ensure_image, prepare_task_run

pytestmark = pytest.mark.integration

IMAGE = "data-collection-database:latest"
ADMIN_TOKEN = "database-image-test-admin-token-0123456789"
SECRET = "database-image-test-secret-0123456789"


@pytest.fixture(scope="module")
def database_image() -> str:
    """The image; built with scripts/build_images.sh when it is not there yet."""
    return ensure_image(IMAGE, "database")


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """python -m heartbeat_api on its own redis-server; an admin client for it."""
    logs = tmp_path_factory.mktemp("api")
    with admin_client_on_own_redis(logs, secret=SECRET, admin_token=ADMIN_TOKEN) as client:
        yield client


def _run_container(
    api: httpx.Client, config: dict[str, Any], work: Path, env: dict[str, str]
) -> tuple[str, Path, subprocess.CompletedProcess[bytes]]:
    run = prepare_task_run(api, config, work, IMAGE, env)
    return run.execution_id, run.out, subprocess.run(run.command, capture_output=True, timeout=180)


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


def test_a_bad_config_exits_2_and_a_failed_sync_exits_1(
    database_image: str, api: httpx.Client, tmp_path: Path
) -> None:
    """The image used to exit 1 on a config error too; run_task's rule is 2 for a bad
    config, 1 for a sync that fails."""
    config: dict[str, Any] = {
        "task_name": "bad",
        "task_type": "database",
        "docker_image": IMAGE,
        "database_config": {
            "source": {"url_env": "SOURCE_DB_URL"},
            "target": {"url_env": "TARGET_DB_URL"},
            "tables": [{"name": "t", "mode": "sideways"}],
        },
    }
    execution_id, _, run = _run_container(api, config, tmp_path / "config", {})
    assert run.returncode == 2, (run.stdout + run.stderr).decode()[-3000:]
    status = api.get(f"/api/v1/task/execution/{execution_id}/status").json()
    assert status["status"] == "failed" and "tables[0].mode" in status["error_message"]

    config["database_config"]["tables"] = [{"name": "t"}]
    execution_id, out, run = _run_container(api, config, tmp_path / "sync", {})
    assert run.returncode == 1, (run.stdout + run.stderr).decode()[-3000:]
    status = api.get(f"/api/v1/task/execution/{execution_id}/status").json()
    assert status["status"] == "failed", status
    assert "SOURCE_DB_URL is not set" in status["error_message"]
    assert "database_config.source.url_env" in (run.stderr).decode()
