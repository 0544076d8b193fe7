"""The SDK through a front that loses half the requests, then answers nothing for 20 s."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from heartbeat_client import HeartbeatClient
from sdk_flaky_front import FlakyFront
from sdk_live_api import LiveApi, wait_until

pytestmark = pytest.mark.integration

OUTAGE_SECONDS = 20.0


class Task:
    """A task in a thread: reports progress until released, then completes."""

    def __init__(self, front_url: str, execution_id: str, token: str, output_dir: Path) -> None:
        self.execution_id = execution_id
        self.release = threading.Event()
        self.errors: list[BaseException] = []
        self.exited_cleanly = False
        self.steps = 0
        self.client = HeartbeatClient(
            front_url,
            execution_id,
            f"task-{execution_id}",
            0.5,
            token=token,
            output_dir=str(output_dir),
            request_timeout=1.0,
            completion_timeout=90.0,
            max_backoff=4.0,
            handle_signals=False,
        )
        self.thread = threading.Thread(target=self._run, name=f"task-{execution_id}")
        self.thread.start()

    def _run(self) -> None:
        try:
            with self.client:
                while not self.release.wait(0.02):
                    self.steps += 1
                    self.client.update_status("running", {"step": self.steps})
                    self.client.set_result({"steps": self.steps})
            self.exited_cleanly = True
        except BaseException as exc:  # noqa: B036 (the test asserts there is none)
            self.errors.append(exc)


@pytest.fixture
def front(live_api: LiveApi) -> Iterator[FlakyFront]:
    flaky = FlakyFront(live_api.url)
    yield flaky
    flaky.close()


def last_heartbeat(api: LiveApi, execution_id: str) -> float:
    return float(api.status(execution_id)["last_heartbeat_at"] or 0.0)


def test_completions_arrive_exactly_once_and_heartbeats_resume(
    live_api: LiveApi, front: FlakyFront, tmp_path: Path
) -> None:
    tasks = [Task(front.url, *live_api.register(), tmp_path / str(i)) for i in range(4)]
    try:
        # Phase 1: half the requests are lost; the first task completes through it.
        front.set_mode("flaky")
        wait_until(
            lambda: front.count("lost_before") >= 5 and front.count("lost_after") >= 5,
            60,
            "the front to lose requests both ways",
        )
        tasks[0].release.set()
        tasks[0].thread.join(60)
        assert live_api.status(tasks[0].execution_id)["status"] == "completed"
        assert front.completion_attempts[tasks[0].execution_id] >= 2  # one answer was lost

        # Phase 2: nothing answers for 20 s; the second task completes meanwhile.
        front.set_mode("silent")
        tasks[1].release.set()
        outage_ends = time.monotonic() + OUTAGE_SECONDS
        while time.monotonic() < outage_ends:
            assert all(not task.errors for task in tasks)
            time.sleep(0.2)  # the outage lasts a fixed time: there is no event to await
        assert front.count("unanswered") >= 4
        assert tasks[1].thread.is_alive()  # still trying to deliver its completion
        outage_over_at = time.time()

        # Phase 3: the front forwards again; heartbeats and the held completion get through.
        front.set_mode("pass")
        for task in tasks[2:]:
            wait_until(
                lambda task=task: last_heartbeat(live_api, task.execution_id) > outage_over_at,
                30,
                f"heartbeats of {task.execution_id} to resume",
            )
        tasks[1].thread.join(60)
        for task in tasks[2:]:
            task.release.set()
            task.thread.join(60)
    finally:
        for task in tasks:
            task.release.set()
            task.thread.join(60)

    for task in tasks:
        assert task.errors == []
        assert task.exited_cleanly
        assert task.client.completion_acknowledged
        status = live_api.status(task.execution_id)
        assert status["status"] == "completed"
        assert status["result_data"] == {"steps": task.steps}
        assert live_api.final_transitions(task.execution_id) == ["completed"]
    assert front.count("forwarded") > 0
