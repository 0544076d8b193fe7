"""The heartbeat loop: schedule, coalescing, retries, bounded memory, cancel answers."""

from __future__ import annotations

import random
import threading
import time
import tracemalloc
from pathlib import Path

import pytest
from heartbeat_client import PROTOCOL_VERSION, HeartbeatClient
from heartbeat_client._backoff import Backoff
from heartbeat_client._heartbeats import HeartbeatLoop
from heartbeat_client._transport import PostResult
from sdk_fake_api import FakeApi, Recorded, Reply, wait_until


def make_client(api: FakeApi, **options: float) -> HeartbeatClient:
    return HeartbeatClient(
        api.url,
        "exec-1",
        "task-exec-1",
        options.pop("heartbeat_interval", 30),
        token="tok-123",
        handle_signals=False,
        **options,  # type: ignore[arg-type]
    )


def test_first_heartbeat_goes_out_at_start_with_token_and_protocol_version(
    fake_api: FakeApi,
) -> None:
    client = make_client(fake_api)
    client.start()
    try:
        fake_api.wait_for(lambda: len(fake_api.heartbeats()) == 1)
        sent = fake_api.heartbeats()[0]
    finally:
        client.close()
    assert sent.headers["Authorization"] == "Bearer tok-123"
    assert sent.body["protocol_version"] == PROTOCOL_VERSION
    assert sent.body["execution_id"] == "exec-1"
    assert sent.body["container_name"] == "task-exec-1"
    assert sent.body["status"] == "running"
    assert isinstance(sent.body["timestamp"], int)


def test_heartbeats_repeat_every_interval(fake_api: FakeApi) -> None:
    client = make_client(fake_api, heartbeat_interval=0.05)
    client.start()
    try:
        fake_api.wait_for(lambda: len(fake_api.heartbeats()) >= 4)
    finally:
        client.close()
    assert all(hb.body["progress"] == {} for hb in fake_api.heartbeats())


def test_progress_updates_are_merged_and_coalesced(fake_api: FakeApi) -> None:
    """A burst of updates while one send is in flight becomes a single next heartbeat."""
    in_flight = threading.Event()
    release = threading.Event()

    def slow_first(request: Recorded) -> Reply:
        if not in_flight.is_set():
            in_flight.set()
            release.wait(10)
        return Reply()

    fake_api.responder = slow_first
    client = make_client(fake_api, progress_interval=0.0)
    client.start()
    try:
        assert in_flight.wait(10)
        client.update_status("running", {"stage": "fetching"})
        for page in range(1000):
            client.update_status("running", {"pages_done": page})
        release.set()
        assert client.flush(10)
    finally:
        client.close()
    heartbeats = fake_api.heartbeats()
    assert len(heartbeats) == 2
    assert heartbeats[1].body["progress"] == {"stage": "fetching", "pages_done": 999}


def test_progress_sends_keep_the_minimum_spacing() -> None:
    """Progress changing all the time is sent at most once per progress interval."""
    sent_at: list[float] = []

    def record(url: str, payload: bytes, token: str | None, timeout: float) -> PostResult:
        sent_at.append(time.monotonic())
        return PostResult(200, {})

    loop = HeartbeatLoop(
        url="http://unused",
        token=None,
        execution_id="e",
        container_name="c",
        interval=3600,
        progress_interval=0.1,
        request_timeout=1,
        backoff=Backoff(),
        is_stopping=lambda: False,
        on_cancel_requested=lambda: None,
        post=record,
    )
    loop.start()
    try:
        step = 0
        while len(sent_at) < 6:
            step += 1
            loop.update("running", {"step": step})
            time.sleep(0.001)  # a busy task's pace, not a wait for an event
    finally:
        loop.close(5)
    gaps = [later - earlier for earlier, later in zip(sent_at, sent_at[1:], strict=False)]
    assert min(gaps) >= 0.1
    assert step > 6  # many more updates than sends


def test_cancel_requested_answer_sets_the_stop_flag_and_status_stopping(
    fake_api: FakeApi,
) -> None:
    fake_api.responder = lambda _r: Reply(body={"status": "ok", "cancel_requested": True})
    client = make_client(fake_api)
    client.start()
    try:
        wait_until(client.should_stop)
        fake_api.wait_for(
            lambda: any(hb.body["status"] == "stopping" for hb in fake_api.heartbeats())
        )
    finally:
        client.close()
    assert client.stop_reason is not None and "cancel" in client.stop_reason


def test_failed_sends_are_retried_honouring_retry_after(fake_api: FakeApi) -> None:
    answers = iter([Reply(503, {"detail": "redis down"}, {"Retry-After": "0"})] * 2)
    fake_api.responder = lambda _r: next(answers, Reply())
    client = make_client(fake_api)
    client.start()
    try:
        fake_api.wait_for(lambda: len(fake_api.heartbeats()) == 3)
        assert client.flush(5)
    finally:
        client.close()


def test_a_409_ends_the_heartbeats(fake_api: FakeApi) -> None:
    fake_api.responder = lambda _r: Reply(409, {"detail": "execution is final"})
    client = make_client(fake_api, heartbeat_interval=0.02)
    client.start()
    try:
        fake_api.wait_for(lambda: len(fake_api.heartbeats()) == 1)
        wait_until(lambda: not client._heartbeats._thread.is_alive())  # type: ignore[union-attr]
    finally:
        client.close()
    assert len(fake_api.heartbeats()) == 1


def test_a_refused_progress_is_dropped_but_liveness_continues(fake_api: FakeApi) -> None:
    def refuse_big(request: Recorded) -> Reply:
        if "blob" in request.body["progress"]:
            return Reply(413, {"detail": "progress too large"})
        return Reply()

    fake_api.responder = refuse_big
    client = make_client(fake_api, heartbeat_interval=0.05)
    client.start()
    try:
        client.update_status("running", {"blob": "x" * 100})
        fake_api.wait_for(
            lambda: any("blob" in hb.body["progress"] for hb in fake_api.heartbeats())
        )
        fake_api.wait_for(lambda: fake_api.heartbeats()[-1].body["progress"] == {})
    finally:
        client.close()


def test_memory_stays_bounded_whatever_the_outage() -> None:
    """Every send fails: 20,000 progress updates leave only the latest state behind."""
    attempts: list[int] = []

    def api_down(url: str, payload: bytes, token: str | None, timeout: float) -> PostResult:
        attempts.append(len(payload))
        return PostResult(None, error="ConnectionRefusedError: down")

    loop = HeartbeatLoop(
        url="http://unused",
        token=None,
        execution_id="e",
        container_name="c",
        interval=0.01,
        progress_interval=0.0,
        request_timeout=1,
        backoff=Backoff(base=0.001, cap=0.002, rng=random.Random(1)),
        is_stopping=lambda: False,
        on_cancel_requested=lambda: None,
        post=api_down,
    )
    loop.start()
    try:
        wait_until(lambda: len(attempts) >= 5)
        tracemalloc.start()
        before = tracemalloc.take_snapshot()
        for step in range(20_000):
            loop.update("running", {"step": step, "stage": "fetching"})
        wait_until(lambda: len(attempts) >= 50)
        after = tracemalloc.take_snapshot()
        tracemalloc.stop()
    finally:
        loop.close(5)
    grown = sum(
        stat.size_diff
        for stat in after.compare_to(before, "filename")
        if "heartbeat_client" in (stat.traceback[0].filename if stat.traceback else "")
    )
    assert grown < 64 * 1024
    assert loop.snapshot() == ("running", {"step": 19_999, "stage": "fetching"})
    assert max(attempts) < 1024  # each attempt carries one small state, not a backlog


def test_task_code_errors_in_arguments_never_raise(fake_api: FakeApi) -> None:
    client = make_client(fake_api)
    client.update_status("running", ["not", "a", "dict"])  # type: ignore[arg-type]
    client.set_result("not a dict")  # type: ignore[arg-type]
    assert client.task_progress == {}
    assert client.result == {}


def test_token_never_logged_on_failures(caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    caplog.set_level("DEBUG", logger="heartbeat_client")
    client = HeartbeatClient(
        "http://127.0.0.1:9",
        "exec-1",
        "c",
        0.05,
        token="tok-SECRET",
        handle_signals=False,
        completion_timeout=0.5,
        output_dir=str(tmp_path),
    )
    client.start()
    try:
        wait_until(lambda: "not delivered" in caplog.text)
        assert client.send_completion(True, {"rows": 1}) is False
    finally:
        client.close()
    assert "tok-SECRET" not in caplog.text
