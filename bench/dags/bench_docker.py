"""bench/e2e_overhead.py, the alternative: the same no-op container through Airflow's
DockerOperator, on the same Docker engine (its local socket).
(The words airflow and DAG let safe mode find this file.)"""

from __future__ import annotations

from datetime import datetime

from airflow.providers.docker.operators.docker import DockerOperator
from airflow.sdk import DAG, Param

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
        image="data-collection-testing:latest",
        command="{{ params.command }}",
        docker_url="unix://var/run/docker.sock",
        auto_remove="success",
        mount_tmp_dir=False,
    )
