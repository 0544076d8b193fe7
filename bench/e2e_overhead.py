"""End-to-end overhead: HeartbeatDockerOperator beside Airflow's DockerOperator.

Both run a container from the same local image on the same Docker engine, in the same
real Airflow (`make services`), triggered through the REST API, in one run:

- trigger-to-success time of a no-op container (median and p95 over N runs);
- worker slots held while a 5 s container runs (the task instance's state sampled
  every 0.1 s: `running` holds a worker slot, `deferred` does not);
- for HeartbeatDockerOperator, the latency from the container's completion (the
  completion's time in Redis) to the task's success (the task instance's end_date);
- the floor of any deferrable task in this Airflow: Airflow's own DateTimeSensorAsync
  with a moment in the past, whose trigger fires at once and ends the task in the
  triggerer, deferred from a worker (as ours is) and started in the triggerer. What
  lies between the floor and DockerOperator is the triggerer's own loop (it looks
  for new triggers and hands over events about once a second), not the operator.

    .venv/bin/python bench/e2e_overhead.py [--runs 10]

It prints figures; it never passes or fails on them.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx
from heartbeat_contract import http

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

from airflow_rest import AirflowRest  # noqa: E402

HEARTBEAT = "bench_heartbeat"
DOCKER = "bench_docker"
FLOOR = "bench_defer_floor"
FLOOR_TRIGGERER = "bench_defer_floor_triggerer"
NOOP_CONF: dict[str, object] = {}
LONG_CONF: dict[str, object] = {"config": {"task_name": "bench", "task_type": "custom",
                                           "docker_image": "data-collection-testing:latest",
                                           "custom_config": {"steps": 10, "step_seconds": 0.5}}}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def timed_run(airflow: AirflowRest, dag_id: str, conf: dict[str, object]) -> tuple[float, str]:
    started = time.monotonic()
    run_id = airflow.trigger(dag_id, conf)
    while True:
        run = airflow.run(dag_id, run_id)
        if run["state"] in ("success", "failed"):
            break
        time.sleep(0.05)
    elapsed = time.monotonic() - started
    if run["state"] != "success":
        sys.exit(f"{dag_id} run {run_id} failed: see the task log in the Airflow UI")
    return elapsed, run_id


def iso(ts: str) -> float:
    return datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp()


def slot_fraction(airflow: AirflowRest, dag_id: str, conf: dict[str, object]) -> float:
    """Share of the container's run during which the task held a worker slot."""
    run_id = airflow.trigger(dag_id, conf)
    samples: list[str] = []
    seen_container = False
    while True:
        ti = airflow.task_instance(dag_id, run_id)
        state = ti.get("state")
        if state in ("success", "failed"):
            break
        # Sample only while the container runs: after the launch, before the end.
        if state in ("running", "deferred"):
            if state == "deferred":
                seen_container = True
            if seen_container or dag_id == DOCKER:
                samples.append(str(state))
        time.sleep(0.1)
    # The first and last samples of the Docker run include launch and teardown.
    if not samples:
        return 0.0
    return sum(1 for s in samples if s == "running") / len(samples)


@dataclass
class NoopTimes:
    """Seconds of each no-op round: trigger to success of each DAG, and, for ours, the
    container's completion to the task's success."""

    ours: list[float] = field(default_factory=list)
    theirs: list[float] = field(default_factory=list)
    floor: list[float] = field(default_factory=list)
    floor_triggerer: list[float] = field(default_factory=list)
    completion_to_success: list[float] = field(default_factory=list)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    return parser.parse_args()


def connect() -> tuple[AirflowRest, httpx.Client]:
    """Airflow, once the bench DAGs are there, and the heartbeat API as admin."""
    airflow = AirflowRest()
    for dag_id in (HEARTBEAT, DOCKER, FLOOR, FLOOR_TRIGGERER):
        airflow.wait_for_dag(dag_id)
    secrets = json.loads((ROOT / ".testbed" / "secrets.json").read_text())
    api = httpx.Client(base_url="http://127.0.0.1:8000", timeout=10,
                       headers={"Authorization": f"Bearer {secrets['heartbeat_admin_token']}"})
    return airflow, api


def warm_up(airflow: AirflowRest) -> None:
    # Warm up both paths once (image cache, first SSH connection).
    timed_run(airflow, HEARTBEAT, NOOP_CONF)
    timed_run(airflow, DOCKER, {"command": "true"})
    timed_run(airflow, FLOOR, {})
    timed_run(airflow, FLOOR_TRIGGERER, {})


def completion_to_success_seconds(airflow: AirflowRest, api: httpx.Client, run_id: str) -> float:
    """Seconds from the container's completion (its time in Redis) to the task's end_date."""
    execution_id = airflow.xcom(HEARTBEAT, run_id, key="execution_id")
    status = api.get(http.path(http.EXECUTION_STATUS, execution_id)).json()
    ti = airflow.task_instance(HEARTBEAT, run_id)
    return iso(ti["end_date"]) - float(status["finished_at"])


def noop_rounds(airflow: AirflowRest, api: httpx.Client, runs: int) -> NoopTimes:
    times = NoopTimes()
    for _ in range(runs):
        elapsed, run_id = timed_run(airflow, DOCKER, {"command": "true"})
        times.theirs.append(elapsed)
        times.floor.append(timed_run(airflow, FLOOR, {})[0])
        times.floor_triggerer.append(timed_run(airflow, FLOOR_TRIGGERER, {})[0])
        elapsed, run_id = timed_run(airflow, HEARTBEAT, NOOP_CONF)
        times.ours.append(elapsed)
        times.completion_to_success.append(completion_to_success_seconds(airflow, api, run_id))
    return times


def long_rounds(
    airflow: AirflowRest, api: httpx.Client, runs: int
) -> tuple[float, list[float], float]:
    """With a 5 s container: the worker-slot share of ours, ours' completion to success
    over max(3, runs // 2) runs, then the worker-slot share of DockerOperator."""
    ours_slots = slot_fraction(airflow, HEARTBEAT, LONG_CONF)
    long_c2s = []
    for _ in range(max(3, runs // 2)):
        _, run_id = timed_run(airflow, HEARTBEAT, LONG_CONF)
        long_c2s.append(completion_to_success_seconds(airflow, api, run_id))
    theirs_slots = slot_fraction(airflow, DOCKER, {"command": "sleep 5"})
    return ours_slots, long_c2s, theirs_slots


def print_trigger_to_success(runs: int, times: NoopTimes) -> None:
    ours, theirs = times.ours, times.theirs
    floor, floor_triggerer = times.floor, times.floor_triggerer
    med_ours, med_theirs = statistics.median(ours), statistics.median(theirs)
    print(f"no-op container, trigger to success, {runs} runs each (seconds):")
    print(f"  DockerOperator           median {med_theirs:6.2f}  p95 {pct(theirs, 0.95):6.2f}")
    print(f"  HeartbeatDockerOperator  median {med_ours:6.2f}  p95 {pct(ours, 0.95):6.2f}")
    print(f"  ratio (ours / DockerOperator, medians): {med_ours / med_theirs:.2f}x")
    med_floor, med_floor_t = statistics.median(floor), statistics.median(floor_triggerer)
    print("the floor of a deferrable task here (Airflow's DateTimeSensorAsync, nothing to "
          "wait for):")
    print(f"  deferred from a worker     median {med_floor:6.2f}  p95 {pct(floor, 0.95):6.2f}"
          f"  ({med_floor / med_theirs:.2f}x DockerOperator)")
    print(f"  started in the triggerer   median {med_floor_t:6.2f}  "
          f"p95 {pct(floor_triggerer, 0.95):6.2f}  ({med_floor_t / med_theirs:.2f}x "
          "DockerOperator)")
    print(f"  ours above the worker-deferred floor: {med_ours - med_floor:+.2f} s "
          f"({med_ours / med_floor:.2f}x)")


def print_slots_and_completion(
    theirs_slots: float, ours_slots: float, c2s: list[float], long_c2s: list[float]
) -> None:
    print("worker slot held while a 5 s container runs (share of samples):")
    print(f"  DockerOperator           {theirs_slots:6.0%}")
    print(f"  HeartbeatDockerOperator  {ours_slots:6.0%}")
    print("HeartbeatDockerOperator, container completion to task success (seconds):")
    print(f"  no-op container (the trigger starts after it ended): "
          f"p50 {pct(c2s, 0.5):.2f}  p95 {pct(c2s, 0.95):.2f}")
    print(f"  5 s container (the trigger is waiting when it ends):  "
          f"p50 {pct(long_c2s, 0.5):.2f}  p95 {pct(long_c2s, 0.95):.2f}")


def main() -> None:
    args = parse_args()
    airflow, api = connect()
    warm_up(airflow)
    times = noop_rounds(airflow, api, args.runs)
    ours_slots, long_c2s, theirs_slots = long_rounds(airflow, api, args.runs)
    print_trigger_to_success(args.runs, times)
    print_slots_and_completion(theirs_slots, ours_slots, times.completion_to_success, long_c2s)


if __name__ == "__main__":
    main()
