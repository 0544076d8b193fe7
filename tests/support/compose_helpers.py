"""Helpers of the compose stack tests: an env file with fresh secrets, a project name
and host ports of its own (never the local stack's 8080/8000), and docker-compose on
that project."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from airflow_rest import AirflowRest

ROOT = Path(__file__).resolve().parents[2]

# The test loads only the crawler image into the exec-host, from its own folder, so it
# never rewrites the archives a running stack of the user's mounts.
TEST_TASK_IMAGES = "crawler"
TEST_TASK_IMAGES_DIR = "./.cache/compose/test-task-images"
CRASH_RESTARTS = 2  # as scripts/compose.sh's wait_healthy


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def run(cmd: list[str], *, env: dict[str, str] | None = None, timeout: float = 600,
        check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=timeout, check=False)
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(cmd)} exited {result.returncode}\n"
            f"stdout: {result.stdout[-3000:]}\nstderr: {result.stderr[-3000:]}"
        )
    return result


def env_file_text(project: str, airflow_port: int, api_port: int, base_image: str) -> str:
    """.env.example with every placeholder replaced and this test's own names and ports."""
    text = (ROOT / ".env.example").read_text()
    from cryptography.fernet import Fernet

    def fresh(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "AIRFLOW_FERNET_KEY":
            return f"{name}={Fernet.generate_key().decode()}"
        return f"{name}={uuid.uuid4().hex}{uuid.uuid4().hex}"

    text = re.sub(r"^([A-Z_]+)=change-me$", fresh, text, flags=re.M)
    overrides = {
        "COMPOSE_PROJECT_NAME": project,
        "AIRFLOW_PORT": str(airflow_port),
        "HEARTBEAT_API_PORT": str(api_port),
        "BASE_IMAGE": base_image,
        "TASK_IMAGES_DIR": TEST_TASK_IMAGES_DIR,
        "AIRFLOW_PARALLELISM": "4",
        "AIRFLOW_WORKER_CONCURRENCY": "2",
    }
    for name, value in overrides.items():
        text, count = re.subn(rf"^#?{name}=.*$", f"{name}={value}", text, flags=re.M)
        assert count == 1, f"{name} is not in .env.example"
    return text


def read_env(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#") and "=" in line:
            name, _, value = line.partition("=")
            values[name] = value
    return values


@dataclass
class Compose:
    """docker-compose on this test's project, env file and ports."""

    project: str
    env_file: Path
    airflow_port: int
    api_port: int

    @property
    def env(self) -> dict[str, str]:
        return read_env(self.env_file)

    def script_env(self) -> dict[str, str]:
        return {**os.environ, "COMPOSE_ENV_FILE": str(self.env_file),
                "TASK_IMAGES": TEST_TASK_IMAGES, "UV_SYSTEM_CERTS": "1"}

    def dc(self, *args: str, timeout: float = 600, check: bool = True,
           all_profiles: bool = False) -> subprocess.CompletedProcess[str]:
        """docker-compose ARGS; all_profiles puts the Celery workers in view too (for
        `config` and `down`), else they stay out as for a user without the profile."""
        env = {k: v for k, v in os.environ.items() if k != "COMPOSE_PROFILES"}
        if all_profiles:
            env["COMPOSE_PROFILES"] = "celery"
        return run(["docker-compose", "--env-file", str(self.env_file), "-p", self.project,
                    "-f", "docker-compose.yml", *args], env=env, timeout=timeout, check=check)

    def containers(self) -> list[dict[str, object]]:
        ids = run(["docker", "ps", "-aq", "--filter",
                   f"label=com.docker.compose.project={self.project}"]).stdout.split()
        if not ids:
            return []
        data: list[dict[str, object]] = json.loads(run(["docker", "inspect", *ids]).stdout)
        return data

    def health(self) -> dict[str, tuple[str, int, str | None]]:
        """name -> (status, exit code, health) of every container of the project."""
        result = {}
        for c in self.containers():
            state = c["State"]
            assert isinstance(state, dict)
            health = (state.get("Health") or {}).get("Status")
            result[str(c["Name"]).lstrip("/")] = (state["Status"], state["ExitCode"], health)
        return result

    def by_service(self) -> dict[str, dict[str, Any]]:
        """service -> the `docker inspect` of its (one) container."""
        result = {}
        for c in self.containers():
            labels = c["Config"]["Labels"]  # type: ignore[index]
            result[str(labels["com.docker.compose.service"])] = c
        return result

    def executor(self, service: str) -> str:
        """AIRFLOW__CORE__EXECUTOR of SERVICE's container (only that variable: the others
        hold secrets that must stay out of assertion messages)."""
        env = self.by_service()[service]["Config"]["Env"]
        prefix = "AIRFLOW__CORE__EXECUTOR="
        return next((e[len(prefix):] for e in env if e.startswith(prefix)), "")

    def leftovers(self) -> dict[str, list[str]]:
        label = f"label=com.docker.compose.project={self.project}"
        return {
            "containers": run(["docker", "ps", "-aq", "--filter", label]).stdout.split(),
            "volumes": run(["docker", "volume", "ls", "-q", "--filter", label]).stdout.split(),
            "networks": run(["docker", "network", "ls", "-q", "--filter", label]).stdout.split(),
        }

    def wait_healthy(self, timeout: float) -> None:
        """Every service healthy; a one-shot service (no healthcheck) exited 0. A
        service restarted twice is crash-looping (`restart: unless-stopped` never lets
        it show "exited"): fail at once rather than at the deadline."""
        deadline = time.monotonic() + timeout
        while True:
            states = self.health()
            restarts = {str(c["Name"]).lstrip("/"): int(str(c["RestartCount"]))
                        for c in self.containers()}
            waiting = {name: st for name, st in states.items()
                       if st not in {("running", 0, "healthy"), ("exited", 0, None)}}
            failed = {name: (*st, f"{restarts.get(name)} restarts")
                      for name, st in states.items()
                      if (name in waiting and (st[0] == "exited" or st[2] == "unhealthy"))
                      or restarts.get(name, 0) >= CRASH_RESTARTS}
            if states and not waiting and not failed:
                return
            if failed or time.monotonic() > deadline:
                logs = self.dc("logs", "--tail", "40", check=False,
                               all_profiles=True).stdout[-6000:]
                raise AssertionError(f"stack not healthy: {failed or waiting}\n{logs}")
            time.sleep(2)

    def airflow(self) -> AirflowRest:
        return AirflowRest(f"http://127.0.0.1:{self.airflow_port}",
                           self.env["AIRFLOW_ADMIN_PASSWORD"])
