"""Database sync DAG: copies the `products` table from one database to another,
incrementally by `updated_at`. The SQLAlchemy URLs come from the Airflow connections
`demo_source_db` and `demo_target_db` as environment variables, never from the config.

The bundled connections point at the test bed's PostgreSQL on the execution host's
loopback, so the container shares the host's network; point them (and drop
`network="host"`) at your own databases.

(The words airflow and DAG above let the dag-processor's safe mode find this file.)
"""

from __future__ import annotations

from heartbeat_operator.dag_factory import collection_dag
from heartbeat_operator.settings import ContainerSettings

DEFAULT_CONFIG = {
    "task_name": "products sync",
    "task_type": "database",
    "docker_image": "data-collection-database:latest",
    "database_config": {
        "source": {"url_env": "SOURCE_DB_URL"},
        "target": {"url_env": "TARGET_DB_URL"},
        "tables": [
            {"name": "products", "mode": "incremental", "cursor_column": "updated_at",
             "primary_key": "id"},
        ],
        "batch_size": 10000,
        "create_target_tables": True,
    },
    "storage_config": {"output_path": "/app/output", "filename_prefix": "products_sync"},
}

dag = collection_dag(
    "database_sync",
    default_config=DEFAULT_CONFIG,
    schedule="@hourly",
    description="Sync database tables incrementally (database task image).",
    tags=["database"],
    container=ContainerSettings(
        network="host",
        env_from_connections={
            "SOURCE_DB_URL": "demo_source_db#sqlalchemy",
            "TARGET_DB_URL": "demo_target_db#sqlalchemy",
        },
    ),
)
