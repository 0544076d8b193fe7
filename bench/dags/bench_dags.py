"""DAGs of bench/e2e_overhead.py (an airflow DAG bundle of its own): the same no-op
container through HeartbeatDockerOperator and through Airflow's DockerOperator, on
the same Docker engine."""

from __future__ import annotations

from datetime import datetime

from airflow.providers.docker.operators.docker import DockerOperator
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
