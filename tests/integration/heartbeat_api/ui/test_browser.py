"""The live view in a real browser against the real API, Redis and SDK-driven executions."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx
import pytest
from live_view_helpers import (
    ADMIN_TOKEN,
    VIEWER_TOKEN,
    Api,
    Execution,
    log_in,
    start_execution,
)
from playwright.sync_api import BrowserContext, Locator, Page, expect

pytestmark = pytest.mark.integration


def row(page: Page, execution: Execution) -> Locator:
    return page.locator(f'tr[data-execution-id="{execution.execution_id}"]')


def _start_four_kinds(
    api: Api, tmp_path: Path
) -> tuple[Execution, Execution, Execution, Execution]:
    """A crawler, an API task, a database sync and a failing API task, all beating."""
    crawler = start_execution(
        api,
        tmp_path,
        dag_id="crawler_collection",
        task_id="crawl",
        progress={"stage": "crawling", "pages_done": 20, "max_pages": 100, "percentage": 20.0},
    )
    api_task = start_execution(
        api,
        tmp_path,
        dag_id="api_collection",
        task_id="fetch",
        progress={"stage": "fetching", "pages": 3, "records": 300, "requests": 3},
    )
    database = start_execution(
        api,
        tmp_path,
        dag_id="database_sync",
        task_id="sync",
        progress={"stage": "syncing", "tables_done": 2, "tables_total": 2, "rows_done": 5000},
    )
    failing = start_execution(
        api,
        tmp_path,
        dag_id="api_collection",
        task_id="fetch_broken",
        progress={"stage": "fetching", "records": 0},
    )
    return crawler, api_task, database, failing


def _expect_the_rows(
    page: Page, crawler: Execution, api_task: Execution, database: Execution, failing: Execution
) -> None:
    expect(row(page, crawler)).to_contain_text("crawler_collection / crawl")
    expect(row(page, crawler).locator(".task-type")).to_have_text("crawler")
    expect(row(page, api_task)).to_contain_text("300 records")
    expect(row(page, database)).to_contain_text("completed")
    expect(row(page, database).locator(".outcome")).to_contain_text("rows_read 5,000")
    expect(row(page, failing).locator(".outcome")).to_contain_text("HTTPError: 503")
    expect(row(page, crawler).locator(".host")).to_have_text(f"task-{crawler.execution_id}")
    # Running first, then the final ones.
    statuses = page.locator("tbody tr .status").all_text_contents()
    assert statuses[:2] == ["running", "running"] and set(statuses[2:4]) == {
        "completed",
        "failed",
    }, statuses


def _expect_progress_moves_without_reload(page: Page, crawler: Execution) -> None:
    bar = row(page, crawler).locator(".progress-bar")
    expect(bar).to_have_attribute("data-fraction", "0.2000")

    page.evaluate("window.__notReloaded = true")
    crawler.beat({"stage": "crawling", "pages_done": 45, "max_pages": 100, "percentage": 45.0})
    expect(bar).to_have_attribute("data-fraction", "0.4500")
    expect(row(page, crawler).locator(".progress-label")).to_contain_text("45/100 pages")
    crawler.beat({"stage": "crawling", "pages_done": 60, "max_pages": 100, "percentage": 60.0})
    expect(bar).to_have_attribute("data-fraction", "0.6000")
    # Two samples over time give a rate and a time left.
    expect(row(page, crawler).locator(".rate")).to_contain_text(re.compile(r"pages/s · .* left"))
    width = bar.locator(".fill").evaluate("el => el.style.width")
    assert width == "60%"
    assert page.evaluate("window.__notReloaded") is True


def test_list_shows_executions_and_moves_without_reload(
    api: Api, admin_page: Page, executions: list[Execution], tmp_path: Path, artifacts: Path
) -> None:
    crawler, api_task, database, failing = _start_four_kinds(api, tmp_path)
    executions += [crawler, api_task, database, failing]
    database.client.send_completion(True, {"rows_read": 5000, "tables": 2})
    failing.client.send_completion(False, {}, "HTTPError: 503 from api.example after 5 tries")

    page = admin_page
    _expect_the_rows(page, crawler, api_task, database, failing)
    _expect_progress_moves_without_reload(page, crawler)
    expect(page.locator("#connection")).to_have_text("live")
    page.screenshot(path=str(artifacts / "list.png"), full_page=True)


def test_a_silent_execution_turns_amber_then_red(
    api: Api, admin_page: Page, executions: list[Execution], tmp_path: Path
) -> None:
    # One heartbeat when started, then none for an hour.
    silent = start_execution(
        api,
        tmp_path,
        dag_id="crawler_collection",
        task_id="silent",
        interval=3600,
        progress={"stage": "crawling", "pages_done": 1, "max_pages": 10},
    )
    beating = start_execution(
        api,
        tmp_path,
        dag_id="crawler_collection",
        task_id="beating",
        interval=1,
        progress={"stage": "crawling", "pages_done": 1, "max_pages": 10},
    )
    executions += [silent, beating]
    page = admin_page
    page.goto("/ui?timeout=6")
    silent_age = row(page, silent).locator(".heartbeat-age")
    expect(silent_age).to_have_attribute("data-level", "ok")
    expect(silent_age).to_have_attribute("data-level", "warn")  # from 3 s
    expect(silent_age).to_have_attribute("data-level", "late")  # from 4.8 s
    expect(silent_age).to_have_css("background-color", "rgb(214, 69, 69)")
    expect(row(page, beating).locator(".heartbeat-age")).not_to_have_attribute("data-level", "late")


def test_cancel_from_the_detail_view_reaches_the_next_heartbeat(
    api: Api, admin_page: Page, executions: list[Execution], tmp_path: Path, artifacts: Path
) -> None:
    task = start_execution(
        api,
        tmp_path,
        dag_id="crawler_collection",
        task_id="crawl",
        progress={"stage": "crawling", "pages_done": 10, "max_pages": 80},
    )
    executions.append(task)
    for pages_done in (20, 30):
        task.beat({"stage": "crawling", "pages_done": pages_done, "max_pages": 80})
    page = admin_page
    row(page, task).locator("a.detail-link").click()
    page.wait_for_url(f"**/ui/executions/{task.execution_id}")
    expect(page.locator("#status")).to_have_text("running")
    expect(page.locator("#airflow")).to_have_text(
        "crawler_collection / crawl / manual__crawler_collection"
    )
    expect(page.locator("#transitions tbody tr")).to_have_count(2)  # pending, running
    chart = page.locator("#chart svg.progress-chart")
    expect(chart).to_have_attribute("data-points", "3")
    task.beat({"stage": "crawling", "pages_done": 40, "max_pages": 80})
    expect(chart).to_have_attribute("data-points", "4")  # live, no reload
    expect(page.locator("#history tbody tr").first).to_contain_text('"pages_done":40')
    page.screenshot(path=str(artifacts / "detail.png"), full_page=True)

    button = page.locator("#cancel")
    button.click()
    expect(button).to_have_text("Click again to cancel")
    button.click()
    expect(page.locator("#cancel-message")).to_contain_text("Cancel requested")
    expect(page.locator("#cancel-state")).to_be_visible()
    expect(button).to_be_hidden()
    # The SDK's next heartbeat hears it...
    task.client.update_status("running", {"stage": "crawling", "pages_done": 41, "max_pages": 80})
    deadline = time.monotonic() + 15
    while not task.client.should_stop():
        assert time.monotonic() < deadline, "the SDK never heard cancel_requested"
        task.client.flush(1)
    assert "cancel requested" in (task.client.stop_reason or "")
    # ...and so does any heartbeat sent by hand with the execution's token.
    answer = httpx.post(
        f"{api.base_url}/api/v1/monitoring/heartbeat",
        headers={"Authorization": f"Bearer {task.token}"},
        json={"execution_id": task.execution_id, "status": "stopping"},
    )
    assert answer.json() == {"status": "ok", "cancel_requested": True}
    task.client.send_completion(False, {"pages": 41}, "stopped", status="cancelled")
    expect(page.locator("#status")).to_have_text("cancelled")
    expect(page.locator("#history")).to_contain_text("cancel requested")


def test_an_execution_token_never_opens_the_page(
    api: Api, context: BrowserContext, executions: list[Execution], tmp_path: Path
) -> None:
    task = start_execution(api, tmp_path, dag_id="crawler_collection", interval=3600)
    executions.append(task)
    page = context.new_page()
    log_in(page, token=task.token)
    expect(page.locator(".error")).to_contain_text("an execution token cannot open")
    assert not [c for c in context.cookies() if c["name"] == "heartbeat_live_view"]
    page.goto("/ui")
    expect(page).to_have_url(re.compile(r"/ui/login\?next="))

    bearer = {"Authorization": f"Bearer {task.token}"}
    context.set_extra_http_headers(bearer)
    response = page.goto("/ui")
    assert response is not None and response.status == 403
    expect(page.locator(".error")).to_contain_text("execution token")
    for path in ("/ui/events", f"/ui/executions/{task.execution_id}"):
        refused = httpx.get(api.base_url + path, headers=bearer)
        assert refused.status_code == 403, (path, refused.text)
    cancel = httpx.post(
        f"{api.base_url}/ui/api/executions/{task.execution_id}/cancel",
        headers={**bearer, "X-Live-View": "1"},
    )
    assert cancel.status_code == 403
    assert httpx.get(f"{api.base_url}/ui/events").status_code == 401
    # Nothing served to the admin carries a token either.
    admin = httpx.get(f"{api.base_url}/ui", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert admin.status_code == 200 and ADMIN_TOKEN not in admin.text


def test_a_viewer_watches_but_cannot_cancel(
    api: Api, context: BrowserContext, executions: list[Execution], tmp_path: Path
) -> None:
    task = start_execution(
        api,
        tmp_path,
        dag_id="api_collection",
        interval=3600,
        progress={"stage": "fetching", "records": 5},
    )
    executions.append(task)
    page = context.new_page()
    log_in(page, token=VIEWER_TOKEN, target=f"/ui/executions/{task.execution_id}")
    page.wait_for_url(f"**/ui/executions/{task.execution_id}")
    expect(page.locator("#status")).to_have_text("running")
    expect(page.locator("#cancel")).to_be_hidden()
    refused = page.request.post(
        f"/ui/api/executions/{task.execution_id}/cancel", headers={"X-Live-View": "1"}
    )
    assert refused.status == 403
    admin_cookie_less = httpx.post(
        f"{api.base_url}/ui/api/executions/{task.execution_id}/cancel",
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert admin_cookie_less.status_code == 403  # no X-Live-View header: not the page
    status = httpx.get(
        f"{api.base_url}/api/v1/task/execution/{task.execution_id}/status",
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    ).json()
    assert status["cancel_requested"] is False
