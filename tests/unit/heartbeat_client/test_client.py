"""Context manager outcomes, completion delivery, signals and idempotent close."""

from __future__ import annotations

import json
import os
import signal
import threading
from pathlib import Path
from typing import Any

import pytest
from heartbeat_client import COMPLETION_FILENAME, PROTOCOL_VERSION, HeartbeatClient
from sdk_fake_api import FakeApi, Recorded, Reply, wait_until


def make_client(api: FakeApi, output_dir: Path, **options: Any) -> HeartbeatClient:
    options.setdefault("handle_signals", False)
    return HeartbeatClient(
        api.url, "exec-1", "task-exec-1", 30, token="tok", output_dir=str(output_dir), **options
    )


def completion_body(api: FakeApi) -> dict[str, Any]:
    completions = api.completions()
    assert len(completions) == 1
    return completions[0].body


def test_clean_exit_sends_completed_with_the_result(fake_api: FakeApi, tmp_path: Path) -> None:
    with make_client(fake_api, tmp_path) as client:
        client.update_status("running", {"stage": "fetching"})
        client.set_result({"rows": 10})
    body = completion_body(fake_api)
    assert body == {
        "execution_id": "exec-1",
        "container_name": "task-exec-1",
        "success": True,
        "result_data": {"rows": 10},
        "error_message": None,
        "status": "completed",
        "protocol_version": PROTOCOL_VERSION,
    }
    assert client.completion_acknowledged
    assert json.loads((tmp_path / COMPLETION_FILENAME).read_text()) == body
    assert fake_api.heartbeats()[-1].body["progress"] == {"stage": "fetching"}


def test_an_exception_sends_failed_with_the_partial_result_and_is_reraised(
    fake_api: FakeApi, tmp_path: Path
) -> None:
    with pytest.raises(ValueError, match="boom"), make_client(fake_api, tmp_path) as client:
        client.set_result({"rows": 3})
        raise ValueError("boom")
    body = completion_body(fake_api)
    assert body["success"] is False
    assert body["status"] == "failed"
    assert body["error_message"] == "ValueError: boom"
    assert body["result_data"] == {"rows": 3}


def test_a_clean_exit_after_a_stop_request_is_cancelled(fake_api: FakeApi, tmp_path: Path) -> None:
    with make_client(fake_api, tmp_path) as client:
        client.set_result({"rows": 5})
        client.request_stop("test asked")
        assert client.should_stop()
    body = completion_body(fake_api)
    assert body["success"] is False
    assert body["status"] == "cancelled"
    assert body["result_data"] == {"rows": 5}
    assert "test asked" in body["error_message"]


def test_system_exit_zero_is_a_clean_exit(fake_api: FakeApi, tmp_path: Path) -> None:
    with pytest.raises(SystemExit), make_client(fake_api, tmp_path):
        raise SystemExit(0)
    assert completion_body(fake_api)["status"] == "completed"


def test_keyboard_interrupt_is_cancelled(fake_api: FakeApi, tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt), make_client(fake_api, tmp_path):
        raise KeyboardInterrupt
    assert completion_body(fake_api)["status"] == "cancelled"


def test_an_explicit_completion_is_not_sent_twice(fake_api: FakeApi, tmp_path: Path) -> None:
    with make_client(fake_api, tmp_path) as client:
        assert client.send_completion(True, {"rows": 1})
    assert completion_body(fake_api)["result_data"] == {"rows": 1}


def test_the_completion_is_retried_until_acknowledged(fake_api: FakeApi, tmp_path: Path) -> None:
    answers = iter([Reply(503, {"detail": "redis down"}, {"Retry-After": "0"})] * 2)
    fake_api.responder = lambda r: next(answers, Reply()) if "completion" in r.path else Reply()
    client = make_client(fake_api, tmp_path)
    assert client.send_completion(True, {"rows": 1}) is True
    bodies = [c.body for c in fake_api.completions()]
    assert len(bodies) == 3
    assert all(body == bodies[0] for body in bodies)  # identical retries: the API dedupes


@pytest.mark.parametrize("status", [409, 401, 422])
def test_a_final_answer_stops_the_retries(fake_api: FakeApi, tmp_path: Path, status: int) -> None:
    fake_api.responder = lambda _r: Reply(status, {"detail": "no"})
    client = make_client(fake_api, tmp_path)
    assert client.send_completion(True, {"rows": 1}) is False
    assert len(fake_api.completions()) == 1


def test_the_completion_gives_up_at_the_deadline_but_keeps_the_file(
    fake_api: FakeApi, tmp_path: Path
) -> None:
    fake_api.responder = lambda _r: Reply(503, {"detail": "down"})
    client = make_client(fake_api, tmp_path, completion_timeout=1.0)
    assert client.send_completion(False, {"rows": 2}, "RuntimeError: x") is False
    assert len(fake_api.completions()) >= 2
    saved = json.loads((tmp_path / COMPLETION_FILENAME).read_text())
    assert saved["result_data"] == {"rows": 2}
    assert saved["status"] == "failed"


def test_an_unencodable_result_still_completes(fake_api: FakeApi, tmp_path: Path) -> None:
    looped: dict[str, Any] = {}
    looped["self"] = looped
    client = make_client(fake_api, tmp_path)
    assert client.send_completion(True, looped) is True
    assert completion_body(fake_api)["result_data"] == {}


def test_sigterm_sets_the_stop_flag_and_status_stopping(fake_api: FakeApi, tmp_path: Path) -> None:
    original = signal.getsignal(signal.SIGTERM)
    with make_client(fake_api, tmp_path, handle_signals=True) as client:
        assert signal.getsignal(signal.SIGTERM) != original
        os.kill(os.getpid(), signal.SIGTERM)
        wait_until(client.should_stop)
        fake_api.wait_for(
            lambda: any(hb.body["status"] == "stopping" for hb in fake_api.heartbeats())
        )
        client.set_result({"rows": 7})
    assert signal.getsignal(signal.SIGTERM) == original
    body = completion_body(fake_api)
    assert (body["status"], body["result_data"]) == ("cancelled", {"rows": 7})
    assert "SIGTERM" in body["error_message"]


def test_first_sigint_asks_to_stop_second_interrupts(fake_api: FakeApi, tmp_path: Path) -> None:
    with pytest.raises(KeyboardInterrupt), make_client(fake_api, tmp_path, handle_signals=True):
        signal.raise_signal(signal.SIGINT)
        signal.raise_signal(signal.SIGINT)
    assert completion_body(fake_api)["status"] == "cancelled"


def test_a_client_started_off_the_main_thread_skips_signal_handlers(
    fake_api: FakeApi, tmp_path: Path
) -> None:
    original = signal.getsignal(signal.SIGTERM)
    errors: list[BaseException] = []

    def task() -> None:
        try:
            with make_client(fake_api, tmp_path, handle_signals=True) as client:
                client.set_result({"thread": True})
        except BaseException as exc:  # noqa: B036 (the test reports anything)
            errors.append(exc)

    worker = threading.Thread(target=task)
    worker.start()
    worker.join(30)
    assert errors == []
    assert signal.getsignal(signal.SIGTERM) == original
    assert completion_body(fake_api)["result_data"] == {"thread": True}


def test_guide_style_use_and_idempotent_stop(fake_api: FakeApi, tmp_path: Path) -> None:
    client = make_client(fake_api, tmp_path)
    client.start()
    client.start()
    assert client.is_running
    client.update_status("running", {"stage": "a"})
    client.update_status("completed", {"stage": "b", "n": 1})
    assert client.task_progress == {"stage": "b", "n": 1}
    assert client.send_completion(success=True, result_data={"processed_records": 1000})
    client.stop()
    client.stop()
    client.close()
    assert not client.is_running
    assert completion_body(fake_api)["status"] == "completed"


def test_flush_waits_for_the_latest_progress(fake_api: FakeApi, tmp_path: Path) -> None:
    seen: list[Recorded] = []

    def record(request: Recorded) -> Reply:
        seen.append(request)
        return Reply()

    fake_api.responder = record
    client = make_client(fake_api, tmp_path)
    client.start()
    try:
        client.update_status("running", {"pages": 42})
        assert client.flush(10)
        assert seen[-1].body["progress"] == {"pages": 42}
    finally:
        client.close()
