"""The real data-collection-crawler:latest image, run with `docker run --network host`
against the local shop site, reporting to the real heartbeat API (on its own
redis-server)."""

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

pytestmark = pytest.mark.integration

IMAGE = "data-collection-crawler:latest"
REPO = Path(__file__).resolve().parents[3]
ADMIN_TOKEN = "crawler-image-test-admin-token-0123456789"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out after {timeout}s waiting for {what}"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def crawler_image() -> str:
    """The image; built with scripts/build_images.sh when it is not there yet."""
    if subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True).returncode:
        env = {**os.environ, "PATH": f"{Path.home()}/.local/bin:{os.environ['PATH']}"}
        build = subprocess.run(
            ["scripts/build_images.sh", "crawler"],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        assert build.returncode == 0, build.stderr[-2000:]
    return IMAGE


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """python -m heartbeat_api on its own redis-server; an admin client for it."""
    logs = tmp_path_factory.mktemp("api")
    redis_port, api_port = free_port(), free_port()
    redis_log, api_log = (logs / "redis.log").open("wb"), (logs / "api.log").open("wb")
    redis = subprocess.Popen(
        ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no"],
        stdout=redis_log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    env = {
        **os.environ,
        "HEARTBEAT_REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "HEARTBEAT_SECRET": "crawler-image-test-secret-0123456789",
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
        wait_until(healthy, 30, "the heartbeat API")
        yield client
    finally:
        client.close()
        for process in (server, redis):
            process.terminate()
            process.wait(10)
        redis_log.close()
        api_log.close()


def start_container(
    api: httpx.Client, config: dict[str, Any], work: Path, image: str = IMAGE
) -> tuple[str, str, Path, subprocess.Popen[bytes]]:
    answer = api.post("/api/v1/monitoring/executions", json={})
    assert answer.status_code == 201, answer.text
    execution_id, token = answer.json()["execution_id"], answer.json()["token"]
    name = f"task-{execution_id}"
    out = work / "out"
    out.mkdir(parents=True)
    config_file = work / "config.json"
    config_file.write_text(json.dumps(config, ensure_ascii=False), encoding="utf-8")
    command = [
        "docker", "run", "--rm", "--name", name, "--network", "host",
        "--user", f"{os.getuid()}:{os.getgid()}",
        "-v", f"{config_file}:/app/config.json:ro", "-v", f"{out}:/app/output",
        "-e", f"TASK_EXECUTION_ID={execution_id}", "-e", f"HOSTNAME={name}",
        "-e", f"API_BASE_URL={api.base_url}", "-e", f"HEARTBEAT_TOKEN={token}",
        "-e", "HEARTBEAT_INTERVAL=1", image,
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return execution_id, name, out, process


def status_of(api: httpx.Client, execution_id: str) -> dict[str, Any]:
    answer = api.get(f"/api/v1/task/execution/{execution_id}/status")
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


def test_the_image_runs_the_guides_config_against_a_local_shop(
    crawler_image: str, api: httpx.Client, site: Any, make_config: Any, tmp_path: Path
):
    config = make_config(
        "json",
        target_urls=[site.url("/products"), site.url("/categories")],
        follow_links={"css": "a.detail"},
        max_depth=1,
    )
    config["storage_config"]["output_path"] = "/app/output"
    execution_id, _, out, process = start_container(api, config, tmp_path)
    logs, _ = process.communicate(timeout=120)

    assert process.returncode == 0, logs.decode()[-3000:]
    [output] = [p for p in out.iterdir() if p.suffix == ".json" and p.name.startswith("shop_")]
    records = json.loads(output.read_text(encoding="utf-8"))
    assert sorted(r["product_name"] for r in records) == [f"Widget {i}" for i in (1, 2, 4, 5)]
    status = status_of(api, execution_id)
    assert status["status"] == "completed", status
    result = status["result_data"]
    assert result["records"] == 4 and result["pages_crawled"] == 8
    assert result["output_files"] == [f"/app/output/{output.name}"]
    assert status["progress"]["pages_done"] == 8 and status["progress"]["max_pages"] == 100
    completion = json.loads((out / "_completion.json").read_text())
    assert completion["success"] is True


def test_sigterm_stops_the_container_with_a_valid_partial_file(
    crawler_image: str, api: httpx.Client, site: Any, make_config: Any, tmp_path: Path
):
    site.serve_limit = 15
    config = make_config(
        "json",
        target_urls=[site.url("/endless/1")],
        follow_links={"css": "a"},
        data_fields={"title": {"css": "h1.title"}},
        max_pages=100_000,
        max_depth=1000,
        delay=0.05,
    )
    config["storage_config"]["output_path"] = "/app/output"
    execution_id, name, out, process = start_container(api, config, tmp_path)
    try:
        assert site.served.wait(60), "the container never crawled the site"
        subprocess.run(["docker", "kill", "--signal", "TERM", name], check=True, timeout=30)
        logs, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            subprocess.run(["docker", "rm", "-f", name], capture_output=True, timeout=30)

    assert process.returncode == 0, logs.decode()[-3000:]
    [output] = [p for p in out.iterdir() if p.suffix == ".json" and p.name.startswith("shop_")]
    records = json.loads(output.read_text(encoding="utf-8"))
    status = status_of(api, execution_id)
    assert status["status"] == "cancelled", status
    result = status["result_data"]
    assert result["status"] == "cancelled" and len(records) == result["records"] >= 10
    assert result["pages_crawled"] < 1000


def test_the_browser_image_renders_script_built_pages(
    api: httpx.Client, site: Any, make_config: Any, tmp_path: Path
):
    image = "data-collection-crawler:browser"
    if subprocess.run(["docker", "image", "inspect", image], capture_output=True).returncode:
        env = {**os.environ, "PATH": f"{Path.home()}/.local/bin:{os.environ['PATH']}"}
        build = subprocess.run(
            ["scripts/build_images.sh", "crawler-browser"],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=1200,
        )  # fmt: skip
        assert build.returncode == 0, build.stderr[-2000:]
    config = make_config(
        target_urls=[site.url("/rendered")],
        item_selector="div.product",
        data_fields={"name": {"css": "h2"}, "price": {"css": ".price", "type": "float"}},
        render=True,
    )
    config["storage_config"]["output_path"] = "/app/output"
    execution_id, _, out, process = start_container(api, config, tmp_path, image)
    logs, _ = process.communicate(timeout=120)

    assert process.returncode == 0, logs.decode()[-3000:]
    [output] = [p for p in out.iterdir() if p.suffix == ".jsonl"]
    names = [json.loads(line)["name"] for line in output.read_text().splitlines()]
    assert names == [f"Widget {i}" for i in range(1, 7)]
    assert status_of(api, execution_id)["status"] == "completed"


def test_a_bad_config_fails_at_start_naming_the_field(
    crawler_image: str, api: httpx.Client, make_config: Any, tmp_path: Path
):
    config = make_config(target_urls=["ftp://shop.example/"], data_fields={"t": {"css": "h1["}})
    execution_id, _, out, process = start_container(api, config, tmp_path)
    logs, _ = process.communicate(timeout=60)

    assert process.returncode == 2, logs.decode()[-3000:]
    status = status_of(api, execution_id)
    assert status["status"] == "failed"
    assert "crawler_config.target_urls[0]" in status["error_message"]
    assert "crawler_config.data_fields.t.css" in status["error_message"]
    assert not [p for p in out.iterdir() if p.name.startswith("shop_")]
