"""Crawler DAG: collects products from a shop site (the guide's example config,
pointed at the bundled sample site). Override the config from the UI form or with
`conf: {"config": {...}}` when triggering through the REST API.

(The words airflow and DAG above let the dag-processor's safe mode find this file.)
"""

from __future__ import annotations

from heartbeat_operator.dag_factory import collection_dag

SAMPLE_SITE = "http://host.docker.internal:8088"

DEFAULT_CONFIG = {
    "task_name": "电商网站爬虫",
    "task_type": "crawler",
    "base_url": SAMPLE_SITE,
    "docker_image": "data-collection-crawler:latest",
    "crawler_config": {
        "target_urls": [f"{SAMPLE_SITE}/products", f"{SAMPLE_SITE}/categories"],
        "max_pages": 100,
        "delay": 0.2,
        "user_agent": "Mozilla/5.0 (compatible; DataCollector/1.0)",
        "output_format": "json",
        "data_fields": ["product_name", "price", "description", "category", "availability"],
        "follow_links": {"pattern": "/products/[0-9]+$"},
        "max_depth": 2,
    },
    "storage_config": {"output_path": "/app/output", "filename_prefix": "ecommerce_products"},
}

dag = collection_dag(
    "crawler_collection",
    default_config=DEFAULT_CONFIG,
    schedule="@daily",
    description="Crawl a shop site for products (crawler task image).",
    tags=["crawler"],
)
