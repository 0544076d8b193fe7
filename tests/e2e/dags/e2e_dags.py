"""DAGs of the end-to-end tests (an airflow DAG bundle of their own): the controllable
test image as a `custom` task, without and with a retry."""

from __future__ import annotations

from datetime import timedelta

from heartbeat_operator.dag_factory import collection_dag
from heartbeat_operator.settings import ContainerSettings

CONFIG = {
    "task_name": "e2e",
    "task_type": "custom",
    "docker_image": "data-collection-testing:latest",
    "custom_config": {"steps": 3, "step_seconds": 0.2},
}

e2e_custom = collection_dag(
    "e2e_custom",
    default_config=CONFIG,
    schedule=None,
    description="End-to-end tests: one try.",
    tags=["tests"],
    retries=0,
    container=ContainerSettings(memory="256m", cpus=0.5),
    heartbeat_interval=1.0,
    execution_timeout=timedelta(minutes=10),
)

e2e_retry = collection_dag(
    "e2e_retry",
    default_config=CONFIG,
    schedule=None,
    description="End-to-end tests: a retry after a failed try.",
    tags=["tests"],
    retries=1,
    retry_delay=1.0,
    heartbeat_interval=1.0,
)

e2e_multihost = collection_dag(
    "e2e_multihost",
    default_config=CONFIG,
    schedule=None,
    description="End-to-end tests: runs placed on two execution hosts.",
    tags=["tests"],
    retries=0,
    heartbeat_interval=1.0,
    ssh_conn_id=["execution_host", "execution_host_2"],
)
