"""Runs placed across two execution hosts (two sshd in front of the test bed's
engine), and a host that stops answering is skipped."""

from __future__ import annotations

import os
import signal
import subprocess
from collections import Counter

import pytest
from airflow_rest import AirflowRest
from e2e_support import ROOT, STATE, custom_config, wait_until

pytestmark = pytest.mark.e2e

DAG = "e2e_multihost"


def run_many(airflow: AirflowRest, count: int) -> list[str]:
    run_ids = [airflow.trigger(DAG, custom_config(steps=6, step_seconds=0.5))
               for _ in range(count)]
    for run_id in run_ids:
        assert airflow.wait_for_run(DAG, run_id, timeout=300)["state"] == "success"
    return [airflow.xcom(DAG, run_id, key="execution_host") for run_id in run_ids]


def test_ten_runs_spread_across_both_hosts(airflow: AirflowRest) -> None:
    airflow.wait_for_dag(DAG)
    hosts = Counter(run_many(airflow, 10))
    assert set(hosts) == {"execution_host", "execution_host_2"}
    assert min(hosts.values()) >= 2, hosts


def test_a_stopped_host_is_skipped(airflow: AirflowRest) -> None:
    airflow.wait_for_dag(DAG)
    pid = int((STATE / "started" / "sshd2").read_text())
    os.kill(pid, signal.SIGTERM)
    wait_until("second SSH host stopped", lambda: not _alive(pid), 10)
    try:
        hosts = run_many(airflow, 3)
        assert hosts == ["execution_host"] * 3
    finally:
        subprocess.run(["bash", str(ROOT / "scripts" / "testbed.sh"), "start"], check=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
