"""Helpers: the real heartbeat API (`python -m heartbeat_api`) on a free port, and a
full snapshot of a Redis db (to show that a refused write changed nothing).

Usable from any test: ``with running_api("redis://127.0.0.1:6379/9") as api: ...``.
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
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from redis.asyncio import Redis

ADMIN_TOKEN = "test-admin-token-0123456789"
SECRET = "test-signing-secret-0123456789"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class ApiServer:
    base_url: str
    admin_token: str
    secret: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def admin_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")


def api_env(redis_url: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTBEAT_")}
    env.update(
        HEARTBEAT_REDIS_URL=redis_url, HEARTBEAT_SECRET=SECRET, HEARTBEAT_ADMIN_TOKEN=ADMIN_TOKEN
    )
    env.update(extra)
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return env


@contextlib.contextmanager
def running_api(
    redis_url: str, *, workers: int = 1, wait_healthy: bool = True, **env: str
) -> Iterator[ApiServer]:
    """Runs the API until the block ends; waits for /healthz (200) unless told not to."""
    port = free_port()
    log_dir = Path(tempfile.mkdtemp(prefix="hbapi-test-"))
    log_path = log_dir / "server.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "heartbeat_api",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--workers",
                str(workers),
            ],
            env=api_env(redis_url, **env),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = ApiServer(f"http://127.0.0.1:{port}", ADMIN_TOKEN, SECRET, process, log_path)
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


def _wait_until_up(server: ApiServer, *, need_redis: bool, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"heartbeat API exited early:\n{server.log_text()}")
        try:
            answer = httpx.get(f"{server.base_url}/healthz", timeout=2)
            if answer.status_code == 200 or not need_redis:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise RuntimeError(f"heartbeat API did not come up in {timeout}s:\n{server.log_text()}")


ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


async def snapshot(redis: Redis) -> dict[str, Any]:
    """Every key of the test db with its full content, to show a write changed nothing."""
    state: dict[str, Any] = {}
    for key in sorted(await redis.keys("*")):
        kind = (await redis.type(key)).decode()
        if kind == "hash":
            state[key] = await redis.hgetall(key)
        elif kind == "list":
            state[key] = await redis.lrange(key, 0, -1)
        elif kind == "stream":
            state[key] = await redis.xrange(key)
        elif kind == "zset":
            state[key] = await redis.zrange(key, 0, -1, withscores=True)
        else:
            state[key] = await redis.dump(key)
    return state
