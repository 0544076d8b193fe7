"""The SDK against the real heartbeat API and Redis: in process and as task processes."""

from __future__ import annotations

import json
import signal
import subprocess
import textwrap
import threading
from pathlib import Path

import pytest
from heartbeat_client import COMPLETION_FILENAME, HeartbeatClient
from sdk_live_api import PYTHON, REPO_ROOT, LiveApi, task_env, wait_until

pytestmark = pytest.mark.integration

GUIDE_EXAMPLE = REPO_ROOT / "sdk" / "examples" / "task_service.py"
GUIDE_RESULT = {
    "processed_records": 1000,
    "output_files": ["result.json", "summary.txt"],
    "execution_time": "2.5分钟",
}


def client_for(api: LiveApi, execution_id: str, token: str, output_dir: Path) -> HeartbeatClient:
    return HeartbeatClient(
        api.url,
        execution_id,
        f"task-{execution_id}",
        0.5,
        token=token,
        output_dir=str(output_dir),
        handle_signals=False,
    )


def test_a_task_reaches_completed_with_progress_and_result(
    live_api: LiveApi, tmp_path: Path
) -> None:
    execution_id, token = live_api.register()
    with client_for(live_api, execution_id, token, tmp_path) as client:
        client.update_status("running", {"stage": "fetching", "pages_done": 3})
        assert client.flush(10)
        assert live_api.status(execution_id)["status"] == "running"
        assert live_api.status(execution_id)["progress"] == {"stage": "fetching", "pages_done": 3}
        client.set_result({"rows": 42})
    status = live_api.status(execution_id)
    assert (status["status"], status["result_data"]) == ("completed", {"rows": 42})
    assert client.completion_acknowledged
    assert live_api.final_transitions(execution_id) == ["completed"]
    saved = json.loads((tmp_path / COMPLETION_FILENAME).read_text(encoding="utf-8"))
    assert saved["status"] == "completed" and saved["protocol_version"] == 1


def test_an_exception_is_reported_failed_with_the_partial_result(
    live_api: LiveApi, tmp_path: Path
) -> None:
    execution_id, token = live_api.register()
    with pytest.raises(RuntimeError), client_for(live_api, execution_id, token, tmp_path) as c:
        c.set_result({"rows": 7})
        raise RuntimeError("source went away")
    status = live_api.status(execution_id)
    assert status["status"] == "failed"
    assert status["error_message"] == "RuntimeError: source went away"
    assert status["result_data"] == {"rows": 7}


def test_a_cancel_request_stops_the_task_which_ends_cancelled(
    live_api: LiveApi, tmp_path: Path
) -> None:
    execution_id, token = live_api.register()
    with client_for(live_api, execution_id, token, tmp_path) as client:
        client.update_status("running", {"stage": "fetching"})
        wait_until(
            lambda: live_api.status(execution_id)["status"] == "running", 10, "first heartbeat"
        )
        live_api.cancel(execution_id)
        wait_until(client.should_stop, 10, "the cancel request to reach the task")
        client.set_result({"rows": 2})
        wait_until(
            lambda: any(e["status"] == "stopping" for e in live_api.history(execution_id)),
            10,
            "a heartbeat with status stopping",
        )
    status = live_api.status(execution_id)
    assert (status["status"], status["result_data"]) == ("cancelled", {"rows": 2})
    assert live_api.final_transitions(execution_id) == ["cancelled"]


def test_a_token_for_another_execution_is_refused_without_raising(
    live_api: LiveApi, tmp_path: Path
) -> None:
    execution_id, _ = live_api.register()
    _, other_token = live_api.register()
    client = client_for(live_api, execution_id, other_token, tmp_path)
    assert client.send_completion(True, {"rows": 1}) is False
    assert live_api.status(execution_id)["status"] == "pending"
    assert (tmp_path / COMPLETION_FILENAME).exists()


def test_heartbeats_from_another_thread_and_completion_run_concurrently(
    live_api: LiveApi, tmp_path: Path
) -> None:
    """Several tasks in threads of one process: each ends with its own result."""
    executions = [live_api.register() for _ in range(4)]
    errors: list[BaseException] = []

    def run(index: int, execution_id: str, token: str) -> None:
        try:
            with client_for(live_api, execution_id, token, tmp_path / str(index)) as client:
                for step in range(20):
                    client.update_status("running", {"step": step})
                client.set_result({"index": index})
        except BaseException as exc:  # noqa: B036 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i, *e)) for i, e in enumerate(executions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    for index, (execution_id, _) in enumerate(executions):
        status = live_api.status(execution_id)
        assert (status["status"], status["result_data"]) == ("completed", {"index": index})


def test_the_guides_task_service_runs_unchanged_to_completed(
    live_api: LiveApi, tmp_path: Path
) -> None:
    """The guide's example, as a container would run it (10 steps of 5 s: about 50 s)."""
    execution_id, token = live_api.register()
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"task_name": "电商网站爬虫"}), encoding="utf-8")
    env = {**task_env(live_api.url, execution_id, token, tmp_path), "CONFIG_PATH": str(config)}
    process = subprocess.run(
        [PYTHON, str(GUIDE_EXAMPLE)], env=env, capture_output=True, text=True, timeout=120
    )
    assert process.returncode == 0, process.stdout + process.stderr
    assert "任务执行完成" in process.stdout
    status = live_api.status(execution_id)
    assert status["status"] == "completed"
    assert status["result_data"] == GUIDE_RESULT
    assert status["progress"]["total_steps"] == 10
    assert live_api.final_transitions(execution_id) == ["completed"]


STOPPABLE_TASK = textwrap.dedent(
    """
    import time
    from heartbeat_client import HeartbeatClient

    with HeartbeatClient.from_env() as client:
        step = 0
        while not client.should_stop():
            step += 1
            client.update_status("running", {"step": step})
            client.set_result({"steps_done": step})
            time.sleep(0.05)
    print("left the task loop at step", step, flush=True)
    """
)


def test_sigterm_ends_a_task_process_cancelled_with_its_partial_result(
    live_api: LiveApi, tmp_path: Path
) -> None:
    execution_id, token = live_api.register()
    script = tmp_path / "task.py"
    script.write_text(STOPPABLE_TASK, encoding="utf-8")
    process = subprocess.Popen(
        [PYTHON, str(script)],
        env=task_env(live_api.url, execution_id, token, tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        wait_until(
            lambda: live_api.status(execution_id)["progress"].get("step", 0) >= 2,
            30,
            "the task to report progress",
        )
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 0, output
    assert "left the task loop" in output
    status = live_api.status(execution_id)
    assert status["status"] == "cancelled"
    assert status["result_data"]["steps_done"] >= 2
    assert "SIGTERM" in status["error_message"]
    saved = json.loads((tmp_path / COMPLETION_FILENAME).read_text(encoding="utf-8"))
    assert (saved["success"], saved["status"]) == (False, "cancelled")
