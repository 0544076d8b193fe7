"""Healthcheck of the Airflow containers of the compose stack.

    healthcheck.py api-server                      GET /api/v2/monitor/health answers 200
    healthcheck.py SchedulerJob|TriggererJob|DagProcessorJob|celery
        a running job of that type on this container's host heartbeated within a minute
        (celery: this container's worker answers a ping through the broker)

Reads the job table directly: cheaper than `airflow jobs check`, which imports all of
Airflow every interval. Likewise the Celery ping goes through a bare Celery app on the
broker URL instead of `celery --app airflow...`, which imports Airflow (seconds of CPU
per check on a small machine).
"""

from __future__ import annotations

import os
import socket
import sys
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from entrypoint import airflow_env, database_url  # noqa: E402

STALE_AFTER_SECONDS = 60


def api_server_ok() -> bool:
    with urllib.request.urlopen("http://127.0.0.1:8080/api/v2/monitor/health", timeout=5) as r:
        return bool(r.status == 200)


def job_alive(job_type: str) -> bool:
    import psycopg

    url = database_url(os.environ).replace("postgresql+psycopg://", "postgresql://", 1)
    with psycopg.connect(url, connect_timeout=5) as conn:
        row = conn.execute(
            "SELECT 1 FROM job WHERE job_type = %s AND state = 'running' AND hostname = %s"
            " AND latest_heartbeat > now() - make_interval(secs => %s) LIMIT 1",
            (job_type, socket.gethostname(), STALE_AFTER_SECONDS),
        ).fetchone()
    return row is not None


def celery_worker_ok() -> bool:
    from celery import Celery

    # The broker URL is built by the entrypoint; the healthcheck only has the raw settings.
    env = airflow_env(dict(os.environ), "/opt/airflow/.ssh/id_ed25519")
    worker = f"celery@{socket.gethostname()}"
    app = Celery("healthcheck", broker=env["AIRFLOW__CELERY__BROKER_URL"])
    try:
        replies = app.control.ping(destination=[worker], timeout=5)
    finally:
        app.close()
    return any(worker in reply for reply in replies)


def main(argv: list[str]) -> int:
    what = argv[0] if argv else ""
    try:
        if what == "api-server":
            ok = api_server_ok()
        elif what == "celery":
            ok = celery_worker_ok()
        elif what in ("SchedulerJob", "TriggererJob", "DagProcessorJob"):
            ok = job_alive(what)
        else:
            sys.stderr.write(f"unknown check {what!r}\n")
            return 2
    except Exception as exc:  # noqa: BLE001 - any failure is simply "unhealthy"
        sys.stderr.write(f"{what}: {type(exc).__name__}: {exc}\n")
        return 1
    if not ok:
        sys.stderr.write(f"{what}: no live {what} on {socket.gethostname()}\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
