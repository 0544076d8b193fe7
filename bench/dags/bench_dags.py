"""DAGs of bench/e2e_overhead.py (an airflow DAG bundle of its own): the same no-op
container through HeartbeatDockerOperator and through Airflow's DockerOperator, on
the same Docker engine; and Airflow's own deferrable sensor with nothing to wait for,
the least time any deferrable task takes in this Airflow."""

from __future__ import annotations

from datetime import datetime

from airflow.providers.docker.operators.docker import DockerOperator
from airflow.providers.standard.sensors.date_time import DateTimeSensorAsync
from airflow.sdk import DAG, Param
from heartbeat_operator.dag_factory import collection_dag

IMAGE = "data-collection-testing:latest"

bench_heartbeat = collection_dag(
    "bench_heartbeat",
    default_config={"task_name": "bench", "task_type": "custom", "docker_image": IMAGE,
                    "custom_config": {"steps": 0}},
    schedule=None,
    description="Benchmark: a no-op container through HeartbeatDockerOperator.",
    tags=["bench"],
    retries=0,
    heartbeat_interval=1.0,
)

with DAG(
    dag_id="bench_docker",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["bench"],
    params={"command": Param("true", type="string")},
    max_active_runs=4,
) as bench_docker:
    DockerOperator(
        task_id="collect",
        image=IMAGE,
        command="{{ params.command }}",
        docker_url="unix://var/run/docker.sock",
        auto_remove="success",
        mount_tmp_dir=False,
    )

# A moment in the past: the trigger fires at once and ends the task in the triggerer
# (end_from_trigger), so all the time is Airflow's own deferral round trip. Deferred
# from a worker, as HeartbeatDockerOperator does, and started in the triggerer.
for floor_id, from_trigger in (("bench_defer_floor", False),
                               ("bench_defer_floor_triggerer", True)):
    with DAG(
        dag_id=floor_id,
        schedule=None,
        start_date=datetime(2026, 1, 1),
        catchup=False,
        tags=["bench"],
        max_active_runs=4,
    ) as floor_dag:
        DateTimeSensorAsync(
            task_id="collect",
            target_time=datetime(2026, 1, 1),
            start_from_trigger=from_trigger,
            end_from_trigger=True,
        )
    globals()[floor_id] = floor_dag
