"""API collection DAG: pages through the sample shop's JSON API with a bearer token
from the Airflow connection `shop_api`, incrementally (each successful run hands the
highest product id it saw to the next one).

(The words airflow and DAG above let the dag-processor's safe mode find this file.)
"""

from __future__ import annotations

from heartbeat_operator.dag_factory import collection_dag
from heartbeat_operator.settings import ContainerSettings

SAMPLE_API = "http://host.docker.internal:8088"

DEFAULT_CONFIG = {
    "task_name": "shop products API",
    "task_type": "api",
    "docker_image": "data-collection-api:latest",
    "api_config": {
        "base_url": SAMPLE_API,
        "endpoint": "/api/v1/products",
        "params": {"per_page": 5},
        "auth": {"type": "bearer", "token_env": "SHOP_API_TOKEN"},
        "pagination": {"type": "page", "param": "page", "start": 1},
        "records_path": "$.data",
        "rate_limit": {"requests_per_second": 20, "burst": 5},
        "retry": {"max_attempts": 5, "backoff_factor": 0.5},
        "incremental": {"cursor_field": "id", "param": "since_id"},
        "output_format": "jsonl",
    },
    "storage_config": {"output_path": "/app/output", "filename_prefix": "shop_products"},
}

dag = collection_dag(
    "api_collection",
    default_config=DEFAULT_CONFIG,
    schedule="@hourly",
    description="Collect records from a third-party API (API task image).",
    tags=["api"],
    container=ContainerSettings(env_from_connections={"SHOP_API_TOKEN": "shop_api"}),
)
