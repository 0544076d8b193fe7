"""bench/e2e_overhead.py, our side: a no-op container through HeartbeatDockerOperator.

Each benchmark DAG has a file of its own, so a task's worker parses (and imports) only
what its own DAG needs. (The words airflow and DAG let safe mode find this file.)
"""

from __future__ import annotations

from heartbeat_operator.dag_factory import collection_dag

bench_heartbeat = collection_dag(
    "bench_heartbeat",
    default_config={"task_name": "bench", "task_type": "custom",
                    "docker_image": "data-collection-testing:latest",
                    "custom_config": {"steps": 0}},
    schedule=None,
    description="Benchmark: a no-op container through HeartbeatDockerOperator.",
    tags=["bench"],
    retries=0,
    heartbeat_interval=1.0,
)
