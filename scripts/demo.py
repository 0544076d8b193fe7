"""`make demo`: trigger the crawler DAG through Airflow's REST API, print its progress
as the container reports it, then the result and where to look next."""

from __future__ import annotations

import json
import sys
import time
import urllib.request
from pathlib import Path

from heartbeat_contract import http

sys.path.insert(0, str(Path(__file__).resolve().parent))

from airflow_rest import ROOT, AirflowRest  # noqa: E402

DAG_ID = "crawler_collection"
API = "http://127.0.0.1:8000"


def api_status(execution_id: str, token: str) -> dict[str, object] | None:
    req = urllib.request.Request(f"{API}{http.path(http.EXECUTION_STATUS, execution_id)}",
                                 headers={http.AUTHORIZATION_HEADER: f"{http.BEARER} {token}"})
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            body: dict[str, object] = json.loads(resp.read())
            return body
    except OSError:
        return None


def main() -> int:
    secrets = json.loads((ROOT / ".testbed" / "secrets.json").read_text())
    airflow = AirflowRest()
    airflow.wait_for_dag(DAG_ID)
    run_id = airflow.trigger(DAG_ID)
    print(f"Triggered {DAG_ID} run {run_id} through the Airflow REST API")
    airflow.wait_for_task_state(DAG_ID, run_id, {"deferred", "success", "failed"})
    execution_id = airflow.xcom(DAG_ID, run_id, key="execution_id")
    print(f"Container task-{execution_id} is running on the SSH execution host; "
          "the task is deferred (no worker slot held)")
    last = None
    while True:
        run = airflow.run(DAG_ID, run_id)
        status = api_status(execution_id, secrets["heartbeat_admin_token"]) or {}
        line = f"  {status.get('status', '?'):10} {json.dumps(status.get('progress') or {})}"
        if line != last:
            print(line, flush=True)
            last = line
        if run.get("state") in ("success", "failed"):
            break
        time.sleep(0.5)
    ti = airflow.task_instance(DAG_ID, run_id)
    print(f"\nDAG run {run['state']} (task try {ti['try_number']})")
    if run["state"] != "success":
        print(airflow.task_log(DAG_ID, run_id, ti["try_number"])[-3000:])
        return 1
    result = airflow.xcom(DAG_ID, run_id)
    print("Result (the task's XCom):")
    print(json.dumps(result, indent=2, ensure_ascii=False))
    out_dir = Path(f"/tmp/task_outputs/{execution_id}")
    if out_dir.is_dir():
        print(f"\nOutput on the execution host, {out_dir}:")
        for path in sorted(out_dir.iterdir()):
            print(f"  {path.name}  ({path.stat().st_size} bytes)")
    password = json.loads((ROOT / ".airflow" / "simple_auth_manager_passwords.json.generated")
                          .read_text())["admin"]
    print(f"\nAirflow UI: http://127.0.0.1:8080  (login admin / {password})")
    print(f"Heartbeat API docs: {API}/docs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
