"""The operator and trigger through a real Airflow, each run triggered through the
REST API as a user would (issue: deferrable operator and trigger, end to end)."""

from __future__ import annotations

import time
from datetime import datetime

import docker
import docker.errors
import paramiko
import pytest
from airflow_rest import AirflowRest
from e2e_faults import record
from e2e_support import HeartbeatApi, custom_config, remote_exists, stack, start, wait_until

pytestmark = pytest.mark.e2e

DAG = "e2e_custom"


def container_gone(engine: docker.DockerClient, name: str) -> bool:
    try:
        engine.containers.get(name)
    except docker.errors.NotFound:
        return True
    return False


def test_run_completes_with_result_in_xcom(
    airflow: AirflowRest, heartbeat_api: HeartbeatApi, docker_engine: docker.DockerClient,
    sftp: paramiko.SFTPClient,
) -> None:
    run_id = airflow.trigger(DAG, custom_config(steps=4, step_seconds=0.2,
                                                result={"records": 42}))
    run = airflow.wait_for_run(DAG, run_id)
    assert run["state"] == "success"
    result = airflow.xcom(DAG, run_id)
    assert result["steps_done"] == 4 and result["records"] == 42
    execution_id = airflow.xcom(DAG, run_id, key="execution_id")
    status = heartbeat_api.status(execution_id)
    assert status is not None and status["status"] == "completed"
    assert status["result_data"] == result
    # Outputs stay on the execution host. The container's last log lines reach the
    # task log, then the config and the container go: both follow the task's success.
    assert remote_exists(sftp, f"/tmp/task_outputs/{execution_id}/_completion.json")
    ti = airflow.task_instance(DAG, run_id)
    wait_until("the container's log in the task log", lambda: all(
        line in airflow.task_log(DAG, run_id, ti["try_number"])
        for line in (f"Last lines of task-{execution_id}",
                     "step 4/4 done")), 30)
    wait_until("config removed", lambda: not remote_exists(
        sftp, f"/tmp/task_configs/{execution_id}"), 30)
    wait_until("container removed", lambda: container_gone(
        docker_engine, f"task-{execution_id}"), 30)


def test_killed_container_is_lost_within_the_heartbeat_timeout(
    airflow: AirflowRest, heartbeat_api: HeartbeatApi, docker_engine: docker.DockerClient,
    sftp: paramiko.SFTPClient,
) -> None:
    run_id, execution_id = start(airflow, heartbeat_api, steps=600, step_seconds=0.5)
    container = docker_engine.containers.get(f"task-{execution_id}")
    # While it runs: the limits, the labels and the read-only config of the launch.
    host_config = container.attrs["HostConfig"]
    assert host_config["Memory"] == 256 * 1024**2
    assert host_config["NanoCpus"] == 500_000_000
    labels = container.labels
    assert labels["heartbeat.execution_id"] == execution_id
    assert labels["heartbeat.dag_id"] == DAG and labels["heartbeat.run_id"] == run_id
    assert labels["heartbeat.try_number"] == "1"
    mounts = {m["Destination"]: m for m in container.attrs["Mounts"]}
    assert mounts["/app/config.json"]["RW"] is False
    assert mounts["/app/output"]["Source"] == f"/tmp/task_outputs/{execution_id}"
    config_dir = f"/tmp/task_configs/{execution_id}"
    assert (sftp.stat(config_dir).st_mode or 0) & 0o777 == 0o700
    assert (sftp.stat(f"{config_dir}/config.json").st_mode or 0) & 0o777 == 0o600
    container.kill()
    killed_at = time.time()
    ti = airflow.wait_for_task_state(DAG, run_id, {"failed"}, timeout=90)
    assert ti["state"] == "failed"
    status = heartbeat_api.status(execution_id)
    assert status is not None and status["status"] == "lost"
    assert "exit code 137" in status["error_message"]
    # Seen from Docker, not from silence: well inside the 30 s heartbeat timeout.
    assert status["finished_at"] - killed_at < 20
    finished = datetime.fromisoformat(str(ti["end_date"]).replace("Z", "+00:00"))
    record("container SIGKILL mid-run", finished.timestamp() - killed_at)
    log = airflow.task_log(DAG, run_id, ti["try_number"])
    assert "lost" in log
    wait_until("no config left", lambda: not remote_exists(sftp, config_dir), 30)


def test_marking_the_deferred_task_failed_stops_the_container(
    airflow: AirflowRest, heartbeat_api: HeartbeatApi, docker_engine: docker.DockerClient,
) -> None:
    run_id, execution_id = start(airflow, heartbeat_api, steps=600, step_seconds=0.5)
    airflow.set_task_state(DAG, run_id, "failed")
    marked_at = time.monotonic()
    wait_until("container removed", lambda: container_gone(
        docker_engine, f"task-{execution_id}"), 30)
    assert time.monotonic() - marked_at <= 30
    status = wait_until("final state", lambda: (s := heartbeat_api.status(execution_id))
                        and s["status"] != "running" and s, 10)
    assert status["status"] == "cancelled"
    # The task itself stopped on SIGTERM and reported its partial result.
    assert 0 < status["result_data"]["steps_done"] < 600


def test_run_survives_a_triggerer_restart(
    airflow: AirflowRest, heartbeat_api: HeartbeatApi,
) -> None:
    run_id, execution_id = start(airflow, heartbeat_api, steps=30, step_seconds=0.5)
    stack("restart", "airflow-triggerer")
    run = airflow.wait_for_run(DAG, run_id, timeout=180)
    assert run["state"] == "success"
    assert airflow.xcom(DAG, run_id)["steps_done"] == 30


def test_run_survives_the_heartbeat_api_down_for_60s(
    airflow: AirflowRest, heartbeat_api: HeartbeatApi,
) -> None:
    """Longer than the heartbeat timeout (30 s): the trigger finds the container running
    and waits; the SDK delivers what it kept once the API is back."""
    run_id, execution_id = start(airflow, heartbeat_api, steps=200, step_seconds=0.5)
    stack("stop", "heartbeat-api")
    try:
        time.sleep(60)  # the outage itself is the scenario
    finally:
        stack("start", "heartbeat-api")
    run = airflow.wait_for_run(DAG, run_id, timeout=300)
    assert run["state"] == "success"
    assert airflow.xcom(DAG, run_id)["steps_done"] == 200


def test_invalid_config_fails_naming_the_field_and_leaves_nothing(
    airflow: AirflowRest, heartbeat_api: HeartbeatApi, docker_engine: docker.DockerClient,
    sftp: paramiko.SFTPClient,
) -> None:
    before_configs = set(sftp.listdir("/tmp/task_configs")) if remote_exists(
        sftp, "/tmp/task_configs") else set()
    conf = custom_config(steps=1)
    conf["config"]["storage_config"] = {"output_pth": "/app/output"}
    run_id = airflow.trigger(DAG, conf)
    run = airflow.wait_for_run(DAG, run_id)
    assert run["state"] == "failed"
    ti = airflow.task_instance(DAG, run_id)
    log = airflow.task_log(DAG, run_id, ti["try_number"])
    assert "storage_config.output_pth" in log
    after_configs = set(sftp.listdir("/tmp/task_configs")) if remote_exists(
        sftp, "/tmp/task_configs") else set()
    assert after_configs == before_configs
    # No container of this run (others' cleanup may still be finishing in the background).
    assert docker_engine.containers.list(
        all=True, filters={"label": [f"heartbeat.run_id={run_id}"]}) == []
    with pytest.raises(Exception, match="404|execution_id"):
        airflow.xcom(DAG, run_id, key="execution_id")


def test_retry_succeeds_and_leaves_no_container_of_the_failed_try(
    airflow: AirflowRest, heartbeat_api: HeartbeatApi, docker_engine: docker.DockerClient,
) -> None:
    run_id = airflow.trigger("e2e_retry", custom_config(steps=2, step_seconds=0.2,
                                                        fail_on_tries=[1]))
    run = airflow.wait_for_run("e2e_retry", run_id, timeout=240)
    assert run["state"] == "success"
    ti = airflow.task_instance("e2e_retry", run_id)
    assert ti["try_number"] == 2
    left = docker_engine.containers.list(
        all=True, filters={"label": ["heartbeat.dag_id=e2e_retry", f"heartbeat.run_id={run_id}"]})
    assert left == []
    first_log = airflow.task_log("e2e_retry", run_id, 1)
    assert "try 1" in first_log and "failing at step 1" in first_log


def test_result_recovered_from_completion_file_when_the_api_never_heard(
    airflow: AirflowRest, heartbeat_api: HeartbeatApi,
) -> None:
    run_id = airflow.trigger(DAG, custom_config(steps=2, step_seconds=0.2, completion="file",
                                                result={"from": "file"}))
    run = airflow.wait_for_run(DAG, run_id, timeout=180)
    assert run["state"] == "success"
    result = airflow.xcom(DAG, run_id)
    assert result == {"steps_done": 2, "steps_total": 2, "from": "file"}
    status = heartbeat_api.status(airflow.xcom(DAG, run_id, key="execution_id"))
    assert status is not None and status["status"] == "completed"
