"""The fault matrix through the real Airflow, Docker, Redis and sshd: each fault ends in
the right state, with its reason, and leaves no container running that should not be
and no config directory behind. Times from fault to new state go to the report file
(tests/support/e2e_faults.py)."""

from __future__ import annotations

import os
import signal
import time
from datetime import datetime
from typing import Any

import docker
import paramiko
import pytest
import redis
from airflow_rest import AirflowRest
from e2e_faults import STACK_REDIS_PORT, frozen, pid_file, record
from e2e_support import HeartbeatApi, custom_config, remote_exists, stack, start, wait_until

pytestmark = pytest.mark.e2e

DAG = "e2e_custom"


def run_containers(engine: docker.DockerClient, dag_id: str, run_id: str,
                   running_only: bool = False) -> list[Any]:
    return list(engine.containers.list(all=not running_only, filters={
        "label": [f"heartbeat.dag_id={dag_id}", f"heartbeat.run_id={run_id}"]}))


def nothing_left(engine: docker.DockerClient, sftp: paramiko.SFTPClient, dag_id: str,
                 run_id: str) -> None:
    """No running container of the run, and no config directory of any of its tries."""
    wait_until("no running container", lambda: not run_containers(
        engine, dag_id, run_id, running_only=True), 30)
    for container in run_containers(engine, dag_id, run_id):
        execution_id = container.labels["heartbeat.execution_id"]
        wait_until(f"config of {execution_id} removed", lambda e=execution_id: not remote_exists(
            sftp, f"/tmp/task_configs/{e}"), 30)


def ended_at(ti: dict[str, Any]) -> float:
    return datetime.fromisoformat(str(ti["end_date"]).replace("Z", "+00:00")).timestamp()


def test_a_container_that_exits_at_start_without_reporting_is_lost_at_once(
    airflow: AirflowRest, heartbeat_api: HeartbeatApi, docker_engine: docker.DockerClient,
    sftp: paramiko.SFTPClient,
) -> None:
    run_id = airflow.trigger(DAG, custom_config(steps=0, completion="none", exit_code=3))
    ti = airflow.wait_for_task_state(DAG, run_id, {"failed"}, timeout=90)
    execution_id = airflow.xcom(DAG, run_id, key="execution_id")
    status = heartbeat_api.status(execution_id)
    assert status is not None and status["status"] == "lost"
    assert "(exit code 3)" in status["error_message"]
    (container,) = run_containers(docker_engine, DAG, run_id)
    stopped = datetime.fromisoformat(container.attrs["State"]["FinishedAt"][:26]).timestamp()
    # Seen from Docker, not from silence: far inside the 120 s startup timeout.
    assert status["finished_at"] - stopped < 30
    record("exits at start with code 3, no report", ended_at(ti) - stopped)
    nothing_left(docker_engine, sftp, DAG, run_id)


def test_an_oom_killed_container_is_lost_naming_the_oom(
    airflow: AirflowRest, heartbeat_api: HeartbeatApi, docker_engine: docker.DockerClient,
    sftp: paramiko.SFTPClient,
) -> None:
    # 256 MB limit (e2e_custom): 48 MB more each step is killed within a few steps.
    run_id = airflow.trigger(DAG, custom_config(steps=40, step_seconds=0.3, allocate_mb=48))
    ti = airflow.wait_for_task_state(DAG, run_id, {"failed"}, timeout=120)
    status = heartbeat_api.status(airflow.xcom(DAG, run_id, key="execution_id"))
    assert status is not None and status["status"] == "lost"
    assert "OOM killed" in status["error_message"]
    (container,) = run_containers(docker_engine, DAG, run_id)
    assert container.attrs["State"]["OOMKilled"] is True
    stopped = datetime.fromisoformat(container.attrs["State"]["FinishedAt"][:26]).timestamp()
    record("OOM-killed under a 256 MB limit", ended_at(ti) - stopped)
    nothing_left(docker_engine, sftp, DAG, run_id)


def test_a_triggerer_killed_mid_run_and_restarted_loses_nothing(
    airflow: AirflowRest, heartbeat_api: HeartbeatApi, docker_engine: docker.DockerClient,
    sftp: paramiko.SFTPClient,
) -> None:
    run_id, _ = start(airflow, heartbeat_api, steps=30, step_seconds=0.5)
    os.killpg(pid_file("airflow-triggerer"), signal.SIGKILL)
    killed_at = time.time()
    stack("start", "airflow-triggerer")  # the stale pid file is replaced
    run = airflow.wait_for_run(DAG, run_id, timeout=180)
    assert run["state"] == "success"
    assert airflow.xcom(DAG, run_id)["steps_done"] == 30
    assert len(run_containers(docker_engine, DAG, run_id)) <= 1
    record("triggerer SIGKILL mid-run, restarted", ended_at(airflow.task_instance(
        DAG, run_id)) - killed_at, "success")
    nothing_left(docker_engine, sftp, DAG, run_id)


def test_a_redis_restart_mid_run_loses_nothing(
    airflow: AirflowRest, heartbeat_api: HeartbeatApi, docker_engine: docker.DockerClient,
    sftp: paramiko.SFTPClient,
) -> None:
    run_id, execution_id = start(airflow, heartbeat_api, steps=30, step_seconds=0.5)
    stack("restart", "redis")  # the stack's Redis keeps an AOF
    run = airflow.wait_for_run(DAG, run_id, timeout=180)
    assert run["state"] == "success"
    assert airflow.xcom(DAG, run_id)["steps_done"] == 30
    status = heartbeat_api.status(execution_id)
    assert status is not None and status["status"] == "completed"
    nothing_left(docker_engine, sftp, DAG, run_id)


def test_the_execution_host_unreachable_for_60s_mid_run(
    airflow: AirflowRest, heartbeat_api: HeartbeatApi, docker_engine: docker.DockerClient,
    sftp: paramiko.SFTPClient,
) -> None:
    run_id, _ = start(airflow, heartbeat_api, steps=160, step_seconds=0.5)
    with frozen(pid_file("sshd")):
        time.sleep(60)  # the outage itself
    run = airflow.wait_for_run(DAG, run_id, timeout=300)
    assert run["state"] == "success"
    assert airflow.xcom(DAG, run_id)["steps_done"] == 160
    nothing_left(docker_engine, sftp, DAG, run_id)


def test_a_watch_that_gives_up_is_followed_by_a_retry_that_reattaches(
    airflow: AirflowRest, heartbeat_api: HeartbeatApi, docker_engine: docker.DockerClient,
    sftp: paramiko.SFTPClient,
) -> None:
    """e2e_reattach gives up after 5 s of an unreachable Redis; its retry comes 30 s
    later, finds the container still running and watches it to the end."""
    dag_id = "e2e_reattach"
    run_id, execution_id = start(airflow, heartbeat_api, dag_id, steps=150, step_seconds=1)
    with frozen(pid_file("redis")):
        airflow.wait_for_task_state(dag_id, run_id, {"up_for_retry"}, timeout=120)
    run = airflow.wait_for_run(dag_id, run_id, timeout=400)
    assert run["state"] == "success"
    ti = airflow.task_instance(dag_id, run_id)
    assert ti["try_number"] == 2
    assert airflow.xcom(dag_id, run_id)["steps_done"] == 150
    # One container, the first try's, watched to the end by the second try.
    assert len(run_containers(docker_engine, dag_id, run_id)) <= 1
    assert f"Reattaching: execution {execution_id} of try 1" in airflow.task_log(
        dag_id, run_id, 2)
    assert "left running: the next try reattaches" in airflow.task_log(dag_id, run_id, 1)
    nothing_left(docker_engine, sftp, dag_id, run_id)


def test_a_worker_killed_after_the_launch_is_followed_by_a_retry_that_reattaches(
    airflow: AirflowRest, docker_engine: docker.DockerClient, sftp: paramiko.SFTPClient,
) -> None:
    dag_id = "e2e_worker_crash"
    airflow.wait_for_dag(dag_id)
    run_id = airflow.trigger(dag_id, custom_config(steps=20, step_seconds=0.5))
    run = airflow.wait_for_run(dag_id, run_id, timeout=300)
    assert run["state"] == "success"
    assert airflow.task_instance(dag_id, run_id)["try_number"] == 2
    assert len(run_containers(docker_engine, dag_id, run_id)) <= 1
    assert "Reattaching" in airflow.task_log(dag_id, run_id, 2)
    assert airflow.xcom(dag_id, run_id)["steps_done"] == 20
    nothing_left(docker_engine, sftp, dag_id, run_id)


def test_marking_a_deferred_task_success_stops_its_container(
    airflow: AirflowRest, heartbeat_api: HeartbeatApi, docker_engine: docker.DockerClient,
    sftp: paramiko.SFTPClient,
) -> None:
    run_id, execution_id = start(airflow, heartbeat_api, steps=600, step_seconds=0.5)
    acted_at = time.time()
    airflow.set_task_state(DAG, run_id, "success")
    wait_until("the execution ended", lambda: (heartbeat_api.status(execution_id) or {}).get(
        "status") == "cancelled", 40)
    wait_until("its container removed", lambda: not run_containers(docker_engine, DAG, run_id),
               40)
    record("mark success while deferred", time.time() - acted_at, "nothing")
    nothing_left(docker_engine, sftp, DAG, run_id)


def test_a_cancel_a_task_ignores_escalates_to_docker_stop_and_is_not_retried(
    airflow: AirflowRest, heartbeat_api: HeartbeatApi, docker_engine: docker.DockerClient,
    sftp: paramiko.SFTPClient,
) -> None:
    dag_id = "e2e_retry"  # one retry, which a cancel must not use
    run_id, execution_id = start(airflow, heartbeat_api, dag_id, steps=600, step_seconds=0.5,
                                 ignore_sigterm=True)
    heartbeat_api.cancel(execution_id)
    asked_at = time.time()
    ti = airflow.wait_for_task_state(dag_id, run_id, {"failed", "up_for_retry"}, timeout=90)
    assert ti["state"] == "failed" and ti["try_number"] == 1
    status = heartbeat_api.status(execution_id)
    assert status is not None and status["status"] == "cancelled"
    assert "stopped after a cancel request" in status["error_message"]
    record("cancel of a task that ignores should_stop()", ended_at(ti) - asked_at)
    nothing_left(docker_engine, sftp, dag_id, run_id)


def test_two_triggerers_one_killed_the_other_finishes_the_run(
    airflow: AirflowRest, heartbeat_api: HeartbeatApi, docker_engine: docker.DockerClient,
    sftp: paramiko.SFTPClient,
) -> None:
    """The run's trigger starts on the stack's triggerer; a second one joins; the first
    is killed. The second takes the trigger over and must not stop the container
    (apache/airflow#73454 may call on_kill on such a reassignment)."""
    run_id, execution_id = start(airflow, heartbeat_api, steps=120, step_seconds=1)
    first = airflow.task_instance(DAG, run_id)["trigger"]["triggerer_id"]
    stack("start", "airflow-triggerer-2")
    try:
        wait_until("the second triggerer is up", lambda: len([
            job for job in airflow.get("/jobs?job_type=TriggererJob&is_alive=true&limit=50")[
                "jobs"] if job["id"] != first]) > 0, 90)
        os.killpg(pid_file("airflow-triggerer"), signal.SIGKILL)
        killed_at = time.time()
        wait_until("the trigger moved", lambda: (airflow.task_instance(DAG, run_id).get(
            "trigger") or {}).get("triggerer_id") not in (None, first), 180)
        record("two triggerers, the one watching killed (takeover)", time.time() - killed_at,
               "success")
        run = airflow.wait_for_run(DAG, run_id, timeout=300)
    finally:
        stack("start", "airflow-triggerer")
        stack("stop", "airflow-triggerer-2")
    assert run["state"] == "success"
    assert airflow.xcom(DAG, run_id)["steps_done"] == 120
    assert len(run_containers(docker_engine, DAG, run_id)) <= 1
    history = heartbeat_api.history(execution_id)
    assert not [e for e in history["history"] if e["type"] == "cancel"]
    nothing_left(docker_engine, sftp, DAG, run_id)


def test_a_task_that_fails_leaves_no_running_container_and_no_config(
    airflow: AirflowRest, heartbeat_api: HeartbeatApi, docker_engine: docker.DockerClient,
    sftp: paramiko.SFTPClient,
) -> None:
    run_id = airflow.trigger(DAG, custom_config(steps=5, step_seconds=0.2, fail_at=2))
    ti = airflow.wait_for_task_state(DAG, run_id, {"failed"}, timeout=90)
    status = heartbeat_api.status(airflow.xcom(DAG, run_id, key="execution_id"))
    assert status is not None and status["status"] == "failed"
    assert "failing at step 2" in status["error_message"]
    assert ti["try_number"] == 1
    nothing_left(docker_engine, sftp, DAG, run_id)


def test_a_run_past_its_execution_timeout_is_stopped(
    airflow: AirflowRest, heartbeat_api: HeartbeatApi, docker_engine: docker.DockerClient,
    sftp: paramiko.SFTPClient,
) -> None:
    dag_id = "e2e_timeout"  # execution_timeout 20 s
    run_id, execution_id = start(airflow, heartbeat_api, dag_id, steps=600, step_seconds=0.5)
    ti = airflow.wait_for_task_state(dag_id, run_id, {"failed"}, timeout=120)
    status = heartbeat_api.status(execution_id)
    assert status is not None and status["status"] in ("failed", "cancelled")
    assert ti["try_number"] == 1
    nothing_left(docker_engine, sftp, dag_id, run_id)


def test_a_watch_that_gives_up_on_the_last_try_stops_the_container(
    airflow: AirflowRest, heartbeat_api: HeartbeatApi, docker_engine: docker.DockerClient,
    sftp: paramiko.SFTPClient,
) -> None:
    dag_id = "e2e_give_up"  # no retry; the watch gives up after 5 s without Redis
    run_id, _ = start(airflow, heartbeat_api, dag_id, steps=600, step_seconds=0.5)
    with frozen(pid_file("redis")):
        frozen_at = time.time()
        ti = airflow.wait_for_task_state(dag_id, run_id, {"failed"}, timeout=120)
    assert "stopping container" in airflow.task_log(dag_id, run_id, 1)
    record("Redis unreachable past the budget on the last try", ended_at(ti) - frozen_at)
    nothing_left(docker_engine, sftp, dag_id, run_id)


def test_an_execution_gone_from_redis_stops_its_container(
    airflow: AirflowRest, heartbeat_api: HeartbeatApi, docker_engine: docker.DockerClient,
    sftp: paramiko.SFTPClient,
) -> None:
    run_id, execution_id = start(airflow, heartbeat_api, steps=600, step_seconds=0.5)
    client = redis.Redis(port=STACK_REDIS_PORT)
    try:
        client.delete(*client.keys(f"hb:exec:{execution_id}*"))
    finally:
        client.close()
    ti = airflow.wait_for_task_state(DAG, run_id, {"failed"}, timeout=90)
    assert "is not in Redis" in airflow.task_log(DAG, run_id, ti["try_number"])
    nothing_left(docker_engine, sftp, DAG, run_id)
