"""A small client of Airflow's REST API (v2), used by the demo, the end-to-end tests
and the benchmarks: what a user's own scripts would do."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FINAL_RUN_STATES = {"success", "failed"}


class AirflowError(RuntimeError):
    pass


class AirflowRest:
    def __init__(self, base_url: str = "http://127.0.0.1:8080", password: str | None = None,
                 username: str = "admin") -> None:
        self.base_url = base_url.rstrip("/")
        if password is None:
            path = ROOT / ".airflow" / "simple_auth_manager_passwords.json.generated"
            password = json.loads(path.read_text())[username]
        token = self._call("POST", "/auth/token", {"username": username, "password": password},
                           auth=False)
        self._token = token["access_token"]

    def _call(self, method: str, path: str, body: Any = None, *, auth: bool = True) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base_url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        if auth:
            req.add_header("Authorization", f"Bearer {self._token}")
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode("utf-8", "replace")[:500]
            raise AirflowError(f"{method} {path} -> {exc.code}: {detail}") from None
        if not raw:
            return None
        ctype = resp.headers.get("Content-Type", "")
        return json.loads(raw) if "json" in ctype else raw.decode("utf-8", "replace")

    def get(self, path: str) -> Any:
        return self._call("GET", "/api/v2" + path)

    def wait_for_dag(self, dag_id: str, timeout: float = 120) -> dict[str, Any]:
        """Wait until the dag-processor has parsed the DAG, then unpause it."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                dag: dict[str, Any] = self.get(f"/dags/{dag_id}")
                break
            except AirflowError as exc:
                if "404" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        if dag.get("is_paused"):
            self._call("PATCH", f"/api/v2/dags/{dag_id}", {"is_paused": False})
        return dag

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        run = self._call("POST", f"/api/v2/dags/{dag_id}/dagRuns",
                         {"logical_date": None, "conf": conf or {}})
        return str(run["dag_run_id"])

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self.get(f"/dags/{dag_id}/dagRuns/{run_id}")
        return result

    def task_instance(self, dag_id: str, run_id: str, task_id: str = "collect") -> dict[str, Any]:
        path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}"
        result: dict[str, Any] = self.get(path)
        return result

    def wait_for_task_state(self, dag_id: str, run_id: str, states: set[str],
                            task_id: str = "collect", timeout: float = 180) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            ti = self.task_instance(dag_id, run_id, task_id)
            if ti.get("state") in states:
                return ti
            if time.monotonic() > deadline:
                raise TimeoutError(f"{dag_id}/{run_id}/{task_id} still {ti.get('state')!r} "
                                   f"after {timeout:.0f}s (wanted {sorted(states)})")
            time.sleep(0.25)

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float = 300) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            run = self.run(dag_id, run_id)
            if run.get("state") in FINAL_RUN_STATES:
                return run
            if time.monotonic() > deadline:
                raise TimeoutError(f"{dag_id}/{run_id} still {run.get('state')!r} after "
                                   f"{timeout:.0f}s")
            time.sleep(0.25)

    def xcom(self, dag_id: str, run_id: str, key: str = "return_value",
             task_id: str = "collect") -> Any:
        entry = self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}"
                         f"/xcomEntries/{key}?deserialize=true")
        value = entry["value"]
        if isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value

    def set_task_state(self, dag_id: str, run_id: str, state: str,
                       task_id: str = "collect") -> Any:
        return self._call("PATCH", f"/api/v2/dags/{dag_id}/dagRuns/{run_id}/taskInstances/"
                          f"{task_id}", {"new_state": state})

    def task_log(self, dag_id: str, run_id: str, try_number: int,
                 task_id: str = "collect") -> str:
        body = self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/logs/"
                        f"{try_number}?full_content=true")
        if isinstance(body, dict):
            content = body.get("content")
            if isinstance(content, list):
                return "\n".join(_log_line(item) for item in content)
            return str(content)
        return str(body)


def _log_line(item: Any) -> str:
    """One structured log record as text, with the exception it carries (if any)."""
    if not isinstance(item, dict):
        return str(item)
    line = str(item.get("event", ""))
    for detail in item.get("error_detail") or []:
        line += f"\n{detail.get('exc_type')}: {detail.get('exc_value')}"
    return line
