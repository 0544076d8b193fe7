"""The real data-collection-crawler:latest image, run with `docker run --network host`
against the local shop site, reporting to the real heartbeat API (on its own
redis-server)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from heartbeat_servers import admin_client_on_own_redis
from task_images import ensure_image, prepare_task_run, status_of

pytestmark = pytest.mark.integration

IMAGE = "data-collection-crawler:latest"
ADMIN_TOKEN = "crawler-image-test-admin-token-0123456789"
SECRET = "crawler-image-test-secret-0123456789"


@pytest.fixture(scope="module")
def crawler_image() -> str:
    """The image; built with scripts/build_images.sh when it is not there yet."""
    return ensure_image(IMAGE, "crawler")


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """python -m heartbeat_api on its own redis-server; an admin client for it."""
    logs = tmp_path_factory.mktemp("api")
    with admin_client_on_own_redis(logs, secret=SECRET, admin_token=ADMIN_TOKEN) as client:
        yield client


def start_container(
    api: httpx.Client, config: dict[str, Any], work: Path, image: str = IMAGE
) -> tuple[str, str, Path, subprocess.Popen[bytes]]:
    run = prepare_task_run(api, config, work, image)
    process = subprocess.Popen(run.command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return run.execution_id, run.name, run.out, process


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
    image = ensure_image("data-collection-crawler:browser", "crawler-browser", timeout=1200)
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
