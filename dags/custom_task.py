"""Custom task DAG: runs any image built on the heartbeat SDK (`task_type: custom`).
The default runs the bundled controllable test image for a few steps; trigger it with
`conf: {"config": {...}}` to run your own image.

(The words airflow and DAG above let the dag-processor's safe mode find this file.)
"""

from __future__ import annotations

from heartbeat_operator.dag_factory import collection_dag
from heartbeat_operator.settings import Timeouts

DEFAULT_CONFIG = {
    "task_name": "custom task",
    "task_type": "custom",
    "docker_image": "data-collection-testing:latest",
    "custom_config": {"steps": 5, "step_seconds": 0.5},
}

dag = collection_dag(
    "custom_task",
    default_config=DEFAULT_CONFIG,
    schedule=None,
    description="Run your own SDK-based image as a monitored container.",
    tags=["custom"],
    timeouts=Timeouts(heartbeat=20, startup=60, silent_running=60),
    heartbeat_interval=1.0,
)
