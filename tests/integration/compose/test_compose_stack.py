"""The compose stack for real: built from this checkout (offline, FROM the test bed's
base image), up and healthy, the crawler DAG run through Airflow's REST API inside it;
then `scripts/compose.sh up --celery` on the same stack (CeleryExecutor, Redis as the
broker, two workers) and the crawler DAG again, on a Celery worker; and `down -v`
leaving no container, volume or network of the project behind.

The tests in this module run in order and share one stack (module fixtures): the celery
profile reuses the running databases and exec-host, which is also what a user who
switches an existing stack to Celery gets.
"""

from __future__ import annotations

import pytest
from compose_helpers import Compose, run

pytestmark = [pytest.mark.integration, pytest.mark.timeout(2400)]

SERVICES = {
    "postgres", "redis", "heartbeat-api", "sample-site", "exec-host", "airflow-init",
    "airflow-api-server", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
}
AIRFLOW_SERVICES = {"airflow-api-server", "airflow-scheduler", "airflow-dag-processor",
                    "airflow-triggerer"}
CELERY_WORKERS = {"airflow-worker-1", "airflow-worker-2"}  # also their hostnames
# What `up --celery` must leave running as it was: the data and the execution host.
KEPT_SERVICES = {"postgres", "redis", "heartbeat-api", "sample-site", "exec-host"}


def test_images_refuse_placeholder_secrets(built_stack: Compose) -> None:
    """The secrets of .env.example, copied unchanged, must stop a service at start."""
    placeholders = ["-e", "HEARTBEAT_SECRET=change-me", "-e", "HEARTBEAT_ADMIN_TOKEN=change-me",
                    "-e", "REDIS_PASSWORD=change-me"]
    api = run(["docker", "run", "--rm", *placeholders,
               "data-collection-stack-heartbeat-api:latest"], check=False, timeout=120)
    assert api.returncode == 2
    assert "HEARTBEAT_SECRET is still the placeholder" in api.stderr

    airflow = run(["docker", "run", "--rm", *placeholders, "-e", "AIRFLOW_ADMIN_PASSWORD=",
                   "data-collection-stack-airflow:latest", "version"], check=False, timeout=120)
    assert airflow.returncode == 2
    assert "AIRFLOW_ADMIN_PASSWORD is not set" in airflow.stderr
    assert "HEARTBEAT_ADMIN_TOKEN is still the placeholder" in airflow.stderr


def test_stack_comes_up_healthy(running_stack: Compose) -> None:
    states = running_stack.health()
    by_service = {name.split("_", 1)[1].rsplit("_", 1)[0]: st for name, st in states.items()}
    assert set(by_service) == SERVICES
    assert by_service["airflow-init"] == ("exited", 0, None)
    for service in SERVICES - {"airflow-init"}:
        assert by_service[service] == ("running", 0, "healthy"), service


def test_published_ports_are_loopback_only(running_stack: Compose) -> None:
    published = {}
    for container in running_stack.containers():
        ports = container["NetworkSettings"]["Ports"] or {}  # type: ignore[index]
        bound = [b for bindings in ports.values() if bindings for b in bindings]
        if bound:
            published[str(container["Name"])] = bound
    assert len(published) == 2, published
    for bindings in published.values():
        assert {b["HostIp"] for b in bindings} == {"127.0.0.1"}
    hosts = {b["HostPort"] for bindings in published.values() for b in bindings}
    assert hosts == {str(running_stack.airflow_port), str(running_stack.api_port)}


def test_crawler_dag_succeeds_through_the_rest_api(running_stack: Compose) -> None:
    airflow = running_stack.airflow()
    airflow.wait_for_dag("crawler_collection", timeout=180)
    # The DAG's own default config: the sample site at host.docker.internal:8088, which
    # the exec-host forwards to the sample-site service.
    run_id = airflow.trigger("crawler_collection")
    final = airflow.wait_for_run("crawler_collection", run_id, timeout=600)
    ti = airflow.task_instance("crawler_collection", run_id)
    assert final["state"] == "success", airflow.task_log("crawler_collection", run_id,
                                                         ti["try_number"])[-4000:]
    result = airflow.xcom("crawler_collection", run_id)
    assert result["status"] == "completed"
    assert result["records"] == 12  # every product of the sample shop
    assert result["errors_total"] == 0
    # LocalExecutor: the task ran in a process of the scheduler's container.
    scheduler = running_stack.by_service()["airflow-scheduler"]
    assert ti["hostname"] == scheduler["Config"]["Hostname"]


def test_up_celery_switches_the_running_stack_to_celery(running_stack: Compose) -> None:
    before = {name: c["Id"] for name, c in running_stack.by_service().items()}
    run(["bash", "scripts/compose.sh", "up", "--celery"], env=running_stack.script_env(),
        timeout=1500)
    states = running_stack.health()
    after = running_stack.by_service()
    assert set(after) == SERVICES | CELERY_WORKERS
    for service in (SERVICES - {"airflow-init"}) | CELERY_WORKERS:
        container = str(after[service]["Name"]).lstrip("/")
        assert states[container] == ("running", 0, "healthy"), service
    for service in AIRFLOW_SERVICES | CELERY_WORKERS:
        assert running_stack.executor(service) == "CeleryExecutor", service
    for service in KEPT_SERVICES:
        assert after[service]["Id"] == before[service], f"{service} was recreated"
    for worker in CELERY_WORKERS:
        assert after[worker]["Config"]["Hostname"] == worker


def test_crawler_dag_runs_on_a_celery_worker(running_stack: Compose) -> None:
    airflow = running_stack.airflow()
    run_id = airflow.trigger("crawler_collection")
    final = airflow.wait_for_run("crawler_collection", run_id, timeout=600)
    ti = airflow.task_instance("crawler_collection", run_id)
    assert final["state"] == "success", airflow.task_log("crawler_collection", run_id,
                                                         ti["try_number"])[-4000:]
    assert ti["hostname"] in CELERY_WORKERS, ti["hostname"]
    result = airflow.xcom("crawler_collection", run_id)
    assert (result["status"], result["records"], result["errors_total"]) == ("completed", 12, 0)
    # The worker the API names took the task from the broker and ran it.
    worker = str(running_stack.by_service()[ti["hostname"]]["Name"]).lstrip("/")
    logs = run(["docker", "logs", worker])
    log = logs.stdout + logs.stderr
    executing = [line for line in log.splitlines()
                 if "Executing workload in Celery" in line and run_id in line]
    assert executing, f"{worker}'s log does not show {run_id}"


def test_down_leaves_nothing_behind(running_stack: Compose) -> None:
    assert running_stack.leftovers()["containers"], "the stack was not running"
    running_stack.dc("down", "-v", "--remove-orphans", timeout=300, all_profiles=True)
    assert running_stack.leftovers() == {"containers": [], "volumes": [], "networks": []}
