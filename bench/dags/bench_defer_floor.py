"""bench/e2e_overhead.py, the floor: Airflow's own deferrable sensor with nothing to
wait for. Its moment is in the past, so the trigger fires at once and ends the task in
the triggerer (end_from_trigger): all the time is Airflow's deferral round trip, the
least any deferrable task takes in this Airflow. Deferred from a worker (as
HeartbeatDockerOperator does) and started in the triggerer.
(The words airflow and DAG let safe mode find this file.)"""

from __future__ import annotations

from datetime import datetime

from airflow.providers.standard.sensors.date_time import DateTimeSensorAsync
from airflow.sdk import DAG

for floor_id, from_trigger in (("bench_defer_floor", False),
                               ("bench_defer_floor_triggerer", True)):
    with DAG(
        dag_id=floor_id,
        schedule=None,
        start_date=datetime(2026, 1, 1),
        catchup=False,
        tags=["bench"],
        max_active_runs=4,
    ) as floor_dag:
        DateTimeSensorAsync(
            task_id="collect",
            target_time=datetime(2026, 1, 1),
            start_from_trigger=from_trigger,
            end_from_trigger=True,
        )
    globals()[floor_id] = floor_dag
