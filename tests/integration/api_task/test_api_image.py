"""The real data-collection-api:latest image, run with `docker run --network host`
against the mock API, reporting to the real heartbeat API (`python -m heartbeat_api`)."""

from __future__ import annotations

import asyncio
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
from api_mock_server import SECRETS, MockApi
from api_task_helpers import SECRET_ENV, config

pytestmark = pytest.mark.integration

IMAGE = "data-collection-api:latest"
REPO = Path(__file__).resolve().parents[3]
ADMIN_TOKEN = "api-image-test-admin-token-0123456789"
SOURCES = [REPO / "images/api", REPO / "sdk/src", REPO / "plugins/task_config/src"]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what}"
        time.sleep(0.05)


def _image_is_stale() -> bool:
    inspect = subprocess.run(
        ["docker", "image", "inspect", "-f", "{{.Created}}", IMAGE], capture_output=True, text=True
    )
    if inspect.returncode:
        return True
    created = subprocess.run(
        ["date", "-d", inspect.stdout.strip(), "+%s"], capture_output=True, text=True, check=True
    )
    built_at = int(created.stdout)
    newest = max(p.stat().st_mtime for root in SOURCES for p in root.rglob("*.py"))
    return newest > built_at


@pytest.fixture(scope="module")
def api_image() -> str:
    """The image, rebuilt with scripts/build_images.sh when missing or older than its code."""
    if _image_is_stale():
        env = {**os.environ, "PATH": f"{Path.home()}/.local/bin:{os.environ['PATH']}"}
        build = subprocess.run(
            ["scripts/build_images.sh", "api"],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        assert build.returncode == 0, build.stderr[-2000:]
    return IMAGE


@pytest.fixture(scope="module")
def heartbeat_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """python -m heartbeat_api on its own redis-server; an admin client for it."""
    logs = tmp_path_factory.mktemp("heartbeat-api")
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
        "HEARTBEAT_SECRET": "api-image-test-secret-0123456789",
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


class Container:
    def __init__(self, hb: httpx.Client, cfg: dict[str, Any], work: Path) -> None:
        answer = hb.post("/api/v1/monitoring/executions", json={})
        assert answer.status_code == 201, answer.text
        self.execution_id, token = answer.json()["execution_id"], answer.json()["token"]
        self.name = f"task-{self.execution_id}"
        self.out = work / "out"
        self.out.mkdir(parents=True)
        config_file = work / "config.json"
        config_file.write_text(json.dumps(cfg), encoding="utf-8")
        secrets = [item for key, value in SECRET_ENV.items() for item in ("-e", f"{key}={value}")]
        self.command = [
            "docker", "run", "--rm", "--name", self.name, "--network", "host",
            "--user", f"{os.getuid()}:{os.getgid()}",
            "-v", f"{config_file}:/app/config.json:ro", "-v", f"{self.out}:/app/output",
            "-e", f"TASK_EXECUTION_ID={self.execution_id}", "-e", f"HOSTNAME={self.name}",
            "-e", f"API_BASE_URL={hb.base_url}", "-e", f"HEARTBEAT_TOKEN={token}",
            "-e", "HEARTBEAT_INTERVAL=1", *secrets, IMAGE,
        ]  # fmt: skip
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
