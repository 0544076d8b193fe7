"""The compose file as docker-compose 1.29 reads it: valid, secrets required and never
defaulted, only loopback ports published, the Celery workers behind their profile."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from typing import Any

import pytest
import yaml
from compose_helpers import ROOT, Compose, run

pytestmark = pytest.mark.integration

COMPOSE_FILE = ROOT / "docker-compose.yml"
REQUIRED = sorted(set(re.findall(r"\$\{([A-Z_]+):\?", COMPOSE_FILE.read_text())))


def resolved(compose: Compose) -> dict[str, Any]:
    config: dict[str, Any] = yaml.safe_load(compose.dc("config", all_profiles=True).stdout)
    return config


def test_compose_file_validates(compose_project: Compose) -> None:
    result = compose_project.dc("config", "-q")
    assert result.returncode == 0
    services = set(resolved(compose_project)["services"])
    assert {"postgres", "redis", "heartbeat-api", "exec-host", "airflow-api-server",
            "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"} <= services


def test_every_service_has_a_healthcheck_and_waits_for_healthy_dependencies(
    compose_project: Compose,
) -> None:
    services = resolved(compose_project)["services"]
    for name, service in services.items():
        if name == "airflow-init":  # a one-shot migration; the others wait for it to exit 0
            assert service["restart"] == "no"
            continue
        assert "test" in service.get("healthcheck", {}), f"{name} has no healthcheck"
        for dependency, condition in service.get("depends_on", {}).items():
            wanted = ("service_completed_successfully" if dependency == "airflow-init"
                      else "service_healthy")
            assert condition == {"condition": wanted}, f"{name} -> {dependency}: {condition}"


def test_a_missing_secret_stops_docker_compose_naming_it(compose_project: Compose,
                                                         tmp_path: Any) -> None:
    text = compose_project.env_file.read_text()
    without = tmp_path / "no-heartbeat-secret.env"
    without.write_text(re.sub(r"^HEARTBEAT_SECRET=.*$", "HEARTBEAT_SECRET=", text, flags=re.M))
    env = {k: v for k, v in os.environ.items() if k not in REQUIRED}
    result = run(["docker-compose", "--env-file", str(without), "-f", str(COMPOSE_FILE),
                  "config", "-q"], env=env, check=False)
    assert result.returncode != 0
    assert "HEARTBEAT_SECRET" in result.stderr


def test_env_example_holds_only_placeholders_for_every_required_secret() -> None:
    example = (ROOT / ".env.example").read_text()
    assert REQUIRED, "the compose file requires no variable at all"
    for name in REQUIRED:
        if name.endswith(("PASSWORD", "SECRET", "TOKEN", "KEY")):
            assert re.search(rf"^{name}=change-me$", example, re.M), name
        else:
            assert re.search(rf"^#?{name}=", example, re.M), name


def test_secret_check_refuses_placeholders_and_short_values_without_echoing_them() -> None:
    env = {**os.environ, "HEARTBEAT_SECRET": "change-me", "REDIS_PASSWORD": "abc123",
           "POSTGRES_PASSWORD": "Q8v2x7mJc1pW9sLk4dRt"}
    result = subprocess.run(
        [sys.executable, str(ROOT / "deploy/common/stack_secrets.py"), "HEARTBEAT_SECRET",
         "REDIS_PASSWORD", "POSTGRES_PASSWORD", "AIRFLOW_JWT_SECRET"],
        env={k: v for k, v in env.items() if k != "AIRFLOW_JWT_SECRET"},
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 2
    assert "HEARTBEAT_SECRET is still the placeholder" in result.stderr
    assert "REDIS_PASSWORD is shorter than 16 characters" in result.stderr
    assert "AIRFLOW_JWT_SECRET is not set" in result.stderr
    assert "POSTGRES_PASSWORD" not in result.stderr
    assert "abc123" not in result.stderr


def test_only_the_ui_and_heartbeat_api_are_published_on_loopback(
    compose_project: Compose,
) -> None:
    services = resolved(compose_project)["services"]
    published = {name: s["ports"] for name, s in services.items() if s.get("ports")}
    assert set(published) == {"airflow-api-server", "heartbeat-api"}
    for name, ports in published.items():
        for port in ports:  # docker-compose 1.29 prints "HOST_IP:HOST_PORT:PORT/tcp"
            assert str(port).startswith("127.0.0.1:"), f"{name}: {port}"
    # The execution host's Docker engine is reached over SSH only: no TCP port at all.
    exec_host = services["exec-host"]
    assert "ports" not in exec_host and not exec_host.get("privileged")
    assert "2375" not in str(exec_host) and "2376" not in str(exec_host)


def test_celery_workers_only_in_the_celery_profile(compose_project: Compose) -> None:
    services = resolved(compose_project)["services"]
    workers = {name for name, s in services.items() if s.get("profiles")}
    assert workers == {"airflow-worker-1", "airflow-worker-2"}
    for name in workers:
        assert services[name]["profiles"] == ["celery"]
        assert services[name]["command"] == ["celery", "worker"]
