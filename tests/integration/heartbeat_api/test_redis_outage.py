"""Redis stopped mid-run and started again: 503 while down, works after, nothing lost.

Our own redis-server with AOF and ``appendfsync always``, killed with SIGKILL (a crash,
not a clean shutdown), then restarted on the same port and data directory.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hbapi_helpers import ApiServer, free_port, running_api
from heartbeat_api.auth import execution_token

pytestmark = pytest.mark.integration


class RedisProcess:
    def __init__(self, data_dir: Path) -> None:
        self.port = free_port()
        self.data_dir = data_dir
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
                "--dir",
                str(self.data_dir),
            ],
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            probe = subprocess.run(
                ["redis-cli", "-p", str(self.port), "ping"], capture_output=True, text=True
            )
            if probe.stdout.strip() == "PONG":
                return
            time.sleep(0.05)
        raise RuntimeError(f"redis-server on port {self.port} did not answer")

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisProcess]:
    redis = RedisProcess(tmp_path)
    redis.start()
    try:
        yield redis
    finally:
        if redis.process and redis.process.poll() is None:
            redis.kill()


def wait_for(check: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(check) and check():
            return
        time.sleep(0.1)
    raise AssertionError(f"condition not met within {timeout}s")


def test_503_while_redis_is_down_and_recovery_without_restart(own_redis: RedisProcess) -> None:
    with running_api(own_redis.url) as api, httpx.Client(base_url=api.base_url, timeout=10) as http:
        admin = api.admin_headers
        ids = ["done-1", "live-1"]
        for execution_id in ids:
            answer = http.post(
                "/api/v1/monitoring/executions", headers=admin, json={"execution_id": execution_id}
            )
            assert answer.status_code == 201

        def writer(execution_id: str) -> dict[str, str]:
            return {"Authorization": f"Bearer {execution_token(api.secret, execution_id)}"}

        def heartbeat(execution_id: str, n: int) -> httpx.Response:
            return http.post(
                "/api/v1/monitoring/heartbeat",
                headers=writer(execution_id),
                json={"execution_id": execution_id, "progress": {"n": n}},
            )

        assert heartbeat("live-1", 1).status_code == 200
        assert heartbeat("done-1", 1).status_code == 200
        done = {"execution_id": "done-1", "success": True, "result_data": {"rows": 42}}
        assert (
            http.post(
                "/api/v1/monitoring/completion", headers=writer("done-1"), json=done
            ).status_code
            == 200
        )

        own_redis.kill()
        answer = heartbeat("live-1", 2)
        assert answer.status_code == 503
        assert "Redis" in answer.json()["detail"] and "unreachable" in answer.json()["detail"]
        assert answer.headers["retry-after"] == "1"
        assert http.get("/healthz").status_code == 503
        assert http.get("/api/v1/task/execution/done-1/status", headers=admin).status_code == 503
        assert api.process.poll() is None, "the API must survive Redis going away"

        own_redis.start()
        wait_for(lambda: http.get("/healthz").status_code == 200)
        # Pooled connections to the dead server are replaced on first use: no restart.
        wait_for(lambda: heartbeat("live-1", 3).status_code == 200)

        status = http.get("/api/v1/task/execution/done-1/status", headers=admin).json()
        assert status["status"] == "completed" and status["result_data"] == {"rows": 42}
        live = http.get("/api/v1/task/execution/live-1/status", headers=admin).json()
        assert live["status"] == "running" and live["progress"] == {"n": 3}
        history = http.get("/api/v1/monitoring/heartbeat/live-1", headers=admin).json()
        beats = [e["progress"]["n"] for e in history["history"] if e["type"] == "heartbeat"]
        assert beats[0] == 1 and beats[-1] == 3 and 2 not in beats  # the 503'd beat: not written
        metrics = http.get("/metrics").text
        assert 'heartbeat_api_rejects_total{reason="redis_unavailable"}' in metrics
        assert_no_secret_in_log(api)


def assert_no_secret_in_log(api: ApiServer) -> None:
    log = api.log_text()
    assert "redis_unavailable" in log
    assert api.secret not in log and api.admin_token not in log
    assert execution_token(api.secret, "live-1") not in log
