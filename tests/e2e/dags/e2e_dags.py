"""DAGs of the end-to-end tests (an airflow DAG bundle of their own): the controllable
test image as a `custom` task, without and with a retry, and an unscheduled API DAG
whose incremental state no scheduled run touches while a test counts records."""

from __future__ import annotations

import os
import signal
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import DAG, Param
from heartbeat_operator.dag_factory import collection_dag
from heartbeat_operator.operators import HeartbeatDockerOperator
from heartbeat_operator.settings import ContainerSettings, Timeouts

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

# The bundled api_collection DAG is @hourly: its scheduled runs would move the state
# under a test. The test passes api_collection's own config as conf.
e2e_api_incremental = collection_dag(
    "e2e_api_incremental",
    default_config={
        "task_name": "e2e api",
        "task_type": "api",
        "docker_image": "data-collection-api:latest",
        "api_config": {"base_url": "http://host.docker.internal:8088",
                       "endpoint": "/api/v1/products",
                       "incremental": {"cursor_field": "id", "param": "since_id"}},
    },
    schedule=None,
    description="End-to-end tests: incremental state from run to run.",
    tags=["tests"],
    retries=0,
    heartbeat_interval=1.0,
    container=ContainerSettings(env_from_connections={"SHOP_API_TOKEN": "shop_api"}),
)

# The fault matrix: a retry that may reattach, a watch that gives up after 5 s of an
# unreachable Redis, and a retry delay long enough for an outage to end first.
e2e_reattach = collection_dag(
    "e2e_reattach",
    default_config=CONFIG,
    schedule=None,
    description="End-to-end tests: a retry reattaches to the earlier try's container.",
    tags=["tests"],
    retries=1,
    retry_delay=30.0,
    heartbeat_interval=1.0,
    timeouts=Timeouts(retry_budget=5.0),
)


class CrashAfterLaunch(HeartbeatDockerOperator):
    """Stands in for a worker that dies right after the launch: on the first try the
    task's process kills itself between starting the container and deferring."""

    def _defer(self, attempt: Any, ti: Any, incremental: bool) -> None:
        if ti.try_number == 1:
            os.kill(os.getpid(), signal.SIGKILL)
        super()._defer(attempt, ti, incremental)


with DAG(
    dag_id="e2e_worker_crash",
    description="End-to-end tests: the worker dies after the launch; the retry reattaches.",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    tags=["data-collection", "tests"],
    render_template_as_native_obj=True,
    params={"config": Param(CONFIG, type="object")},
    default_args={"retries": 1, "retry_delay": timedelta(seconds=1)},
):
    CrashAfterLaunch(task_id="collect", config="{{ params.config }}", heartbeat_interval=1.0)

e2e_timeout = collection_dag(
    "e2e_timeout",
    default_config=CONFIG,
    schedule=None,
    description="End-to-end tests: a run past its execution_timeout.",
    tags=["tests"],
    retries=0,
    heartbeat_interval=1.0,
    execution_timeout=timedelta(seconds=20),
)

e2e_give_up = collection_dag(
    "e2e_give_up",
    default_config=CONFIG,
    schedule=None,
    description="End-to-end tests: the watch gives up on the last try.",
    tags=["tests"],
    retries=0,
    heartbeat_interval=1.0,
    timeouts=Timeouts(retry_budget=5.0),
)
