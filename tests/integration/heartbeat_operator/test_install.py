"""Installing into an existing Airflow, as the README says: `make dist`, then
`pip install --find-links dist heartbeat-operator` into a fresh venv that holds only
apache-airflow 3.3.0 (older than the lock's 3.3.2). It adds the provider and what it
needs, changes no installed version, brings no heartbeat API server, and that Airflow
lists the provider, its `heartbeat` connection type and form, and imports the trigger
and the hook; the Test button works there against a real heartbeat API. The API
server installs the same way into an environment of its own and runs there.

Airflow's own wheels are kept in .cache/install-test/ after the first run (from PyPI),
so later runs build the Airflow venv offline; our install always resolves on PyPI."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from heartbeat_servers import redis_server, running_heartbeat_api
from install_checks import dependency_problems, freeze, wheel_requirements, workspace_members

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
AIRFLOW_VERSION = "3.3.0"
WHEELHOUSE = ROOT / ".cache" / "install-test" / f"apache-airflow-{AIRFLOW_VERSION}"
PROBE = ROOT / "tests" / "support" / "airflow_venv_probe.py"
OURS = {"heartbeat-operator", "heartbeat-contract", "heartbeat-store", "task-config"}
# The heartbeat API server and what only it needs (uvicorn[standard]'s extras included).
SERVER_ONLY = {"heartbeat-api", "prometheus-client", "uvicorn", "httptools", "uvloop",
               "watchfiles", "websockets", "python-dotenv"}
ADMIN_TOKEN = "install-test-admin-token-0123456789"


def run(*command: str | Path, env: dict[str, str] | None = None,
        timeout: float = 600) -> str:
    done = subprocess.run([str(c) for c in command], cwd=ROOT, env=env, text=True,
                          capture_output=True, timeout=timeout)
    assert done.returncode == 0, f"{command} failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
    return done.stdout


@dataclass
class Install:
    venv: Path
    env: dict[str, str]
    before: dict[str, str]
    after: dict[str, str]
    pip_output: str

    def probe(self, *args: str) -> dict[str, Any]:
        """The probe's report (its last line; Airflow may log before it)."""
        output = run(self.venv / "bin" / "python", "-I", PROBE, *args, env=self.env)
        report: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
        return report


@pytest.fixture(scope="module")
def dist() -> Path:
    run("make", "dist")
    return ROOT / "dist"


def airflow_venv(venv: Path, env: dict[str, str]) -> None:
    """A fresh venv with only apache-airflow, its wheels cached after the first run."""
    run(shutil.which("python3.11") or "python3.11", "-m", "venv", venv, env=env)
    pip = venv / "bin" / "pip"
    if not (WHEELHOUSE / ".complete").exists():
        shutil.rmtree(WHEELHOUSE, ignore_errors=True)
        run(pip, "wheel", "-q", f"apache-airflow=={AIRFLOW_VERSION}", "-w", WHEELHOUSE, env=env)
        (WHEELHOUSE / ".complete").touch()
    run(pip, "install", "-q", "--no-index", "--find-links", WHEELHOUSE,
        f"apache-airflow=={AIRFLOW_VERSION}", env=env)


@pytest.fixture(scope="module")
def installed(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Install:
    home = tmp_path_factory.mktemp("airflow-home")
    venv = tmp_path_factory.mktemp("existing-airflow") / "venv"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AIRFLOW", "VIRTUAL_ENV", "PYTHON", "UV_"))}
    env |= {"AIRFLOW_HOME": str(home), "PATH": f"{venv / 'bin'}:{env.get('PATH', '')}"}
    airflow_venv(venv, env)
    before = freeze(run(venv / "bin" / "pip", "freeze", env=env))
    # The README's command, run from the repository root.
    output = run(venv / "bin" / "pip", "install", "--find-links", "dist", "heartbeat-operator",
                 env=env)
    after = freeze(run(venv / "bin" / "pip", "freeze", env=env))
    run(venv / "bin" / "pip", "check", env=env)
    return Install(venv, env, before, after, output)


def test_dist_holds_a_reproducible_wheel_of_every_workspace_package(
    dist: Path, tmp_path: Path
) -> None:
    wheels = sorted(p.name for p in dist.glob("*.whl"))
    expected = sorted(f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
                      for name, version in workspace_members(ROOT).items())
    assert wheels == expected
    run("bash", "scripts/build_dist.sh", tmp_path)
    assert digests(tmp_path) == digests(dist)


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.glob("*.whl")}


def test_every_package_depends_on_ranges_not_pins(dist: Path) -> None:
    assert dependency_problems(["a==1", "b", "c>=1", "d<2", "e>=1,<2", "f~=1.2"]) == [
        "a==1", "b", "c>=1", "d<2"]
    problems = {wheel.name: dependency_problems(wheel_requirements(wheel))
                for wheel in dist.glob("*.whl")}
    assert {name: found for name, found in problems.items() if found} == {}


def test_install_adds_the_provider_and_changes_nothing_installed(installed: Install) -> None:
    assert installed.before["apache-airflow"] == AIRFLOW_VERSION
    changed = {name: (version, installed.after.get(name))
               for name, version in installed.before.items()
               if installed.after.get(name) != version}
    assert changed == {}
    added = set(installed.after) - set(installed.before)
    assert OURS <= added, added
    for wheel in ("heartbeat_operator", "heartbeat_contract", "heartbeat_store", "task_config"):
        assert f"Processing ./dist/{wheel}-0.1.0-py3-none-any.whl" in installed.pip_output


def test_install_brings_no_heartbeat_api_server(installed: Install) -> None:
    added = set(installed.after) - set(installed.before)
    assert added & SERVER_ONLY == set()
    assert "heartbeat-api" not in installed.after
    assert "prometheus-client" not in installed.after


def test_that_airflow_lists_the_provider_its_connection_type_and_trigger(
    installed: Install
) -> None:
    found = installed.probe()["providers"]
    assert found["version"] == "0.1.0"
    assert found["hook"] == {"class": "heartbeat_operator.hooks.HeartbeatApiHook",
                             "testable": True, "package": "heartbeat-operator",
                             "imports": "HeartbeatApiHook"}
    assert found["trigger_modules"] == ["heartbeat_operator.triggers"]
    assert found["trigger_imports"] is True
    assert found["extra_links"] == ["heartbeat_operator.links.ExecutionLink"]
    assert found["form"] == {"password": "Admin token", "login_hidden": True,
                             "extra_fields": ["container_url", "ui_url"]}


def test_the_airflow_cli_shows_the_provider_and_its_options(installed: Install) -> None:
    airflow = installed.venv / "bin" / "airflow"
    listed = json.loads(run(airflow, "providers", "list", "-o", "json", env=installed.env))
    assert {"package_name": "heartbeat-operator", "version": "0.1.0"}.items() <= next(
        p for p in listed if p["package_name"] == "heartbeat-operator").items()
    level = run(airflow, "config", "get-value", "heartbeat_operator", "library_log_level",
                env=installed.env)
    assert level.strip() == "WARNING"


@pytest.fixture()
def api_url(tmp_path: Path) -> Iterator[str]:
    with (redis_server(tmp_path / "redis.log") as redis_url,
          running_heartbeat_api(redis_url, secret="install-test-secret-0123456789",
                                admin_token=ADMIN_TOKEN, log_path=tmp_path / "api.log") as api):
        yield api.base_url


def test_the_test_button_in_that_airflow(installed: Install, api_url: str) -> None:
    wrong = "not-the-admin-token-0123456789"
    answers = installed.probe(api_url, ADMIN_TOKEN, wrong)["test_button"]
    assert answers[0] == [True, f"heartbeat API at {api_url} answers, accepts the admin token "
                                "and reaches its Redis"]
    assert answers[1][0] is False and "the admin token was refused (401)" in answers[1][1]
    assert wrong not in answers[1][1]


@pytest.fixture(scope="module")
def api_venv(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`pip install --find-links dist heartbeat-api` into a fresh venv of its own."""
    venv = tmp_path_factory.mktemp("api-server") / "venv"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "PYTHON"))}
    run(shutil.which("python3.11") or "python3.11", "-m", "venv", venv, env=env)
    run(venv / "bin" / "pip", "install", "-q", "--find-links", "dist", "heartbeat-api", env=env)
    run(venv / "bin" / "pip", "check", env=env)
    return venv


def test_the_api_server_runs_from_its_own_environment(api_venv: Path, tmp_path: Path) -> None:
    installed = freeze(run(api_venv / "bin" / "pip", "freeze"))
    assert "apache-airflow" not in installed and "heartbeat-api" in installed
    with (redis_server(tmp_path / "redis.log") as redis_url,
          running_heartbeat_api(redis_url, secret="install-test-secret-0123456789",
                                admin_token=ADMIN_TOKEN, log_path=tmp_path / "api.log",
                                python=str(api_venv / "bin" / "python")) as api):
        health = httpx.get(f"{api.base_url}/healthz", timeout=5)
        listed = httpx.get(f"{api.base_url}/api/v1/monitoring/executions",
                           headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=5)
    assert health.json() == {"status": "ok", "redis": "ok"}
    assert (listed.status_code, listed.json()) == (200, {"executions": []})
