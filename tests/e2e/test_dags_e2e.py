"""The bundled API and database DAGs through the real Airflow, the incremental state
handed from run to run, and the live view's place in the Airflow UI."""

from __future__ import annotations

import json
import subprocess
from typing import Any

import pytest
from airflow_rest import AirflowError, AirflowRest
from e2e_support import HeartbeatApi

pytestmark = pytest.mark.e2e

# An unscheduled copy of api_collection (its config passed as conf), so that no
# scheduled run moves the state while the test counts records.
DAG_ID = "e2e_api_incremental"
STATE_KEY = f"heartbeat_state__{DAG_ID}__collect"


def api_config(airflow: AirflowRest, **changes: Any) -> dict[str, Any]:
    dag = airflow.get("/dags/api_collection/details")
    config: dict[str, Any] = dag["params"]["config"]["value"]
    config["api_config"].update(changes)
    return {"config": config}


def stored_state(airflow: AirflowRest) -> Any:
    """The state the next run resumes from, as the operator keeps it: {"state": ...}."""
    try:
        return json.loads(airflow.get(f"/variables/{STATE_KEY}")["value"])
    except AirflowError as exc:
        if "404" in str(exc):
            return None
        raise


def run(airflow: AirflowRest, dag_id: str, conf: dict[str, Any] | None = None) -> str:
    run_id = airflow.trigger(dag_id, conf)
    airflow.wait_for_run(dag_id, run_id, timeout=300)
    return run_id


def test_api_dag_hands_incremental_state_to_the_next_run_and_not_after_a_failure(
    airflow: AirflowRest,
) -> None:
    airflow.wait_for_dag("api_collection")
    airflow.wait_for_dag(DAG_ID)
    try:
        airflow._call("DELETE", f"/api/v2/variables/{STATE_KEY}")
    except AirflowError:
        pass
    first = run(airflow, DAG_ID, api_config(airflow))
    assert airflow.run(DAG_ID, first)["state"] == "success"
    result = airflow.xcom(DAG_ID, first)
    assert result["records"] == 12 and result["state"] == 12
    assert stored_state(airflow) == {"state": 12}

    # A failing run (an endpoint the API does not have) leaves the state alone.
    failed = run(airflow, DAG_ID, api_config(airflow, endpoint="/api/v1/missing"))
    assert airflow.run(DAG_ID, failed)["state"] == "failed"
    assert stored_state(airflow) == {"state": 12}

    # The next run asks only for records past the state: there are none.
    second = run(airflow, DAG_ID, api_config(airflow))
    assert airflow.run(DAG_ID, second)["state"] == "success"
    result = airflow.xcom(DAG_ID, second)
    assert result["records"] == 0 and result["state"] == 12


def test_bundled_api_dag_runs_one_at_a_time_and_keeps_its_state(
    airflow: AirflowRest,
) -> None:
    dag = airflow.wait_for_dag("api_collection")
    assert dag["max_active_runs"] == 1
    run_id = run(airflow, "api_collection")
    assert airflow.run("api_collection", run_id)["state"] == "success"
    # Whatever earlier (scheduled) runs collected, the state is the highest id.
    assert airflow.xcom("api_collection", run_id)["state"] == 12
    key = "heartbeat_state__api_collection__collect"
    assert json.loads(airflow.get(f"/variables/{key}")["value"]) == {"state": 12}


def test_database_dag_syncs_the_table_with_urls_from_connections(
    airflow: AirflowRest, heartbeat_api: HeartbeatApi
) -> None:
    airflow.wait_for_dag("database_sync")
    run_id = run(airflow, "database_sync")
    assert airflow.run("database_sync", run_id)["state"] == "success"
    result = airflow.xcom("database_sync", run_id)
    assert result["tables"]["products"]["status"] == "completed"
    count = subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "demo_target", "-tAc",
         "select count(*) from products"], check=True, capture_output=True, text=True)
    assert int(count.stdout) == 500
    # The URLs (and so any password) never reach the XCom or the execution record.
    execution_id = airflow.xcom("database_sync", run_id, key="execution_id")
    status = heartbeat_api.status(execution_id)
    assert status is not None
    assert "+psycopg://" not in str(status) + str(result)


def test_live_view_is_in_the_airflow_ui_and_linked_from_task_runs(
    airflow: AirflowRest,
) -> None:
    plugins = airflow.get("/plugins")["plugins"]
    live = [p for p in plugins if p["name"] == "heartbeat_live_view"]
    assert live, [p["name"] for p in plugins]
    views = live[0]["external_views"]
    assert any(v["name"] == "Executions (live)" and v["href"].endswith("/ui")
               for v in views), views
    run_id = run(airflow, "e2e_custom")
    execution_id = airflow.xcom("e2e_custom", run_id, key="execution_id")
    links = airflow.get(f"/dags/e2e_custom/dagRuns/{run_id}/taskInstances/collect/links")
    link = links["extra_links"]["Live view"]
    assert link.endswith(f"/ui/executions/{execution_id}"), links
