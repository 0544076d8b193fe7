"""The real data-collection-api:latest image, run with `docker run --network host`
against the mock API, reporting to the real heartbeat API (`python -m heartbeat_api`)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from api_mock_server import SECRETS, MockApi
from api_task_helpers import SECRET_ENV, config
from heartbeat_servers import admin_client_on_own_redis
from task_images import REPO, ensure_image, prepare_task_run

pytestmark = pytest.mark.integration

IMAGE = "data-collection-api:latest"
ADMIN_TOKEN = "api-image-test-admin-token-0123456789"
SECRET = "api-image-test-secret-0123456789"
SOURCES = [
    REPO / "images/api",
    REPO / "sdk/src",
    REPO / "libs/heartbeat_contract/src",
    REPO / "plugins/task_config/src",
]


@pytest.fixture(scope="module")
def api_image() -> str:
    """The image, rebuilt with scripts/build_images.sh when missing or older than its code."""
    return ensure_image(IMAGE, "api", sources=SOURCES)


@pytest.fixture(scope="module")
def heartbeat_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """python -m heartbeat_api on its own redis-server; an admin client for it."""
    logs = tmp_path_factory.mktemp("heartbeat-api")
    with admin_client_on_own_redis(logs, secret=SECRET, admin_token=ADMIN_TOKEN) as client:
        yield client


class Container:
    def __init__(self, hb: httpx.Client, cfg: dict[str, Any], work: Path) -> None:
        run = prepare_task_run(hb, cfg, work, IMAGE, SECRET_ENV)
        self.execution_id, self.name, self.out = run.execution_id, run.name, run.out
        self.command = run.command
        self.process: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            *self.command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )

    async def finish(self) -> tuple[int, str]:
        assert self.process is not None
        output, _ = await asyncio.wait_for(self.process.communicate(), 120)
        return int(self.process.returncode or 0), output.decode()

    def output_records(self, name: str) -> list[Any]:
        text = (self.out / name).read_text()
        if name.endswith(".jsonl"):
            return [json.loads(line) for line in text.splitlines()]
        records = json.loads(text)
        assert isinstance(records, list)
        return records


def _assert_secret_free(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text


async def test_the_image_collects_through_oauth_and_reports_to_the_heartbeat_api(
    api_image: str, heartbeat_api: httpx.Client, mock_api: MockApi, tmp_path: Path
) -> None:
    mock_api.auth = "oauth2"
    mock_api.token_uses = 2  # one refresh after a 401 mid-run
    cfg = config(
        mock_api,
        Path("/app/output"),
        pagination={"type": "page", "concurrency": 2},
        auth={
            "type": "oauth2_client_credentials",
            "token_url": f"{mock_api.url}/oauth/token",
            "client_id": "client-77",
            "client_secret_env": "OAUTH_CLIENT_SECRET",
        },
        incremental={"cursor_field": "updated_at", "param": "since", "state": 50},
        output_format="json",
    )
    container = Container(heartbeat_api, cfg, tmp_path)
    await container.start()
    code, logs = await container.finish()

    assert code == 0, logs[-3000:]
    status = heartbeat_api.get(f"/api/v1/task/execution/{container.execution_id}/status").json()
    assert status["status"] == "completed", status
    result = status["result_data"]
    assert (result["records"], result["state"], result["pages"]) == (200, 250, 2)
    assert [r["id"] for r in container.output_records(result["output_files"][0])] == list(
        range(51, 251)
    )
    assert mock_api.tokens_issued >= 2
    history = heartbeat_api.get(f"/api/v1/monitoring/heartbeat/{container.execution_id}")
    assert history.status_code == 200
    _assert_secret_free(
        logs,
        json.dumps(status),
        history.text,
        *(p.read_text() for p in container.out.iterdir()),
    )


async def test_sigterm_ends_the_run_with_a_valid_partial_file(
    api_image: str, heartbeat_api: httpx.Client, mock_api: MockApi, tmp_path: Path
) -> None:
    mock_api.auth = "bearer"
    mock_api.records = [{"id": i, "updated_at": i} for i in range(1, 10_001)]
    cfg = config(
        mock_api,
        Path("/app/output"),
        pagination="page",
        auth={"type": "bearer", "token_env": "API_TOKEN"},
        rate_limit={"requests_per_second": 10},
        output_format="json",
    )
    container = Container(heartbeat_api, cfg, tmp_path)
    await container.start()
    deadline = time.monotonic() + 60
    while len(mock_api.seen) < 3:
        assert time.monotonic() < deadline, "the container never fetched"
        await asyncio.sleep(0.05)
    stop = await asyncio.create_subprocess_exec("docker", "stop", "-t", "30", container.name)
    await stop.wait()
    code, logs = await container.finish()

    assert code == 0, logs[-3000:]
    status = heartbeat_api.get(f"/api/v1/task/execution/{container.execution_id}/status").json()
    assert status["status"] == "cancelled", status
    result = status["result_data"]
    assert result["stopped_because"] == "cancelled"
    records = container.output_records(result["output_files"][0])
    assert 300 <= len(records) == result["records"] < 10_000
    assert not list(container.out.glob(".*.part"))
    _assert_secret_free(logs, json.dumps(status))


async def test_a_bad_config_exits_2_naming_the_field(
    api_image: str, heartbeat_api: httpx.Client, mock_api: MockApi, tmp_path: Path
) -> None:
    """The image used to exit 1 on a config error; run_task's rule is 2 (as the crawler)."""
    cfg = config(mock_api, Path("/app/output"), pagination="page", max_records=-1)
    container = Container(heartbeat_api, cfg, tmp_path)
    await container.start()
    code, logs = await container.finish()

    assert code == 2, logs[-3000:]
    status = heartbeat_api.get(f"/api/v1/task/execution/{container.execution_id}/status").json()
    assert status["status"] == "failed", status
    assert "api_config.max_records" in status["error_message"]
    assert "invalid config" in logs
