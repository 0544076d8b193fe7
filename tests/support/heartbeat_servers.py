"""The real heartbeat API (``python -m heartbeat_api``) as a subprocess for integration
tests, optionally on a throwaway redis-server, and the polling helpers that go with it.

Shared by the integration tests of several parts (tests/support is on pytest's
pythonpath).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Polls ``predicate`` until it is true; AssertionError naming ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def heartbeat_api_env(
    redis_url: str, *, secret: str, admin_token: str, **extra: str
) -> dict[str, str]:
    """This process's environment with the test's settings in place of any HEARTBEAT_*
    of the calling shell, so the API under test reads only what the test gives it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTBEAT_")}
    env.update(
        HEARTBEAT_REDIS_URL=redis_url, HEARTBEAT_SECRET=secret, HEARTBEAT_ADMIN_TOKEN=admin_token
    )
    env.update(extra)
    # A multi-worker API makes its own metrics directory; an inherited one would be shared.
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


@dataclass
class HeartbeatApiProcess:
    base_url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


@contextlib.contextmanager
def running_heartbeat_api(
    redis_url: str,
    *,
    secret: str,
    admin_token: str,
    log_path: Path | None = None,
    workers: int = 1,
    wait_healthy: bool = True,
    python: str = sys.executable,
    **extra_env: str,
) -> Iterator[HeartbeatApiProcess]:
    """Runs the API (``python -m heartbeat_api`` with ``python``, by default this one's)
    on a free 127.0.0.1 port until the block ends. Waits for /healthz to answer 200
    (Redis reachable), or just to answer when ``wait_healthy`` is false."""
    port = free_port()
    if log_path is None:
        log_path = Path(tempfile.mkdtemp(prefix="heartbeat-api-test-")) / "server.log"
    command = [
        python, "-m", "heartbeat_api", "--host", "127.0.0.1", "--port", str(port),
        "--workers", str(workers),
    ]  # fmt: skip
    env = heartbeat_api_env(redis_url, secret=secret, admin_token=admin_token, **extra_env)
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    server = HeartbeatApiProcess(f"http://127.0.0.1:{port}", process, log_path)
    try:
        _wait_until_up(server, need_redis=wait_healthy)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_up(server: HeartbeatApiProcess, *, need_redis: bool, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"heartbeat API exited early:\n{server.log_text()[-3000:]}")
        try:
            answer = httpx.get(f"{server.base_url}/healthz", timeout=2)
            if answer.status_code == 200 or not need_redis:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)  # the process has no readiness signal to wait on
    raise RuntimeError(
        f"heartbeat API did not come up in {timeout} s:\n{server.log_text()[-3000:]}"
    )


@contextlib.contextmanager
def redis_server(log_path: Path) -> Iterator[str]:
    """A throwaway redis-server without persistence on a free port; yields its URL."""
    port = free_port()
    command = [
        "redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
        "--appendonly", "no",
    ]  # fmt: skip
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


@contextlib.contextmanager
def admin_client_on_own_redis(
    log_dir: Path, *, secret: str, admin_token: str
) -> Iterator[httpx.Client]:
    """The API on its own redis-server (logs in ``log_dir``); an admin client for it."""
    with (
        redis_server(log_dir / "redis.log") as redis_url,
        running_heartbeat_api(
            redis_url, secret=secret, admin_token=admin_token, log_path=log_dir / "api.log"
        ) as server,
        httpx.Client(
            base_url=server.base_url,
            headers={"Authorization": f"Bearer {admin_token}"},
            timeout=10,
        ) as client,
    ):
        yield client
