"""Runs HeartbeatDockerOperator.execute in its own process with Airflow's task logging
(JSON lines, as a task process writes them for its log): argv[1] is the log file,
argv[2] the operator's keyword arguments as JSON (``container``: ContainerSettings'
fields); connections come from the environment. Prints what the launch pushed to XCom
and handed the trigger."""

from __future__ import annotations

import json
import sys
from types import SimpleNamespace
from typing import Any

from airflow.sdk.bases.operator import ExecutorSafeguard
from airflow.sdk.exceptions import TaskDeferred
from airflow.sdk.log import configure_logging


class RecordingTi(SimpleNamespace):
    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = value


def main(log_path: str, operator_kwargs: dict[str, Any]) -> dict[str, Any]:
    with open(log_path, "wb") as log:
        configure_logging(json_output=True, output=log, cache_logger_on_first_use=False)
        # Imported once logging is set up, as in a task process.
        from heartbeat_operator import ContainerSettings, HeartbeatDockerOperator

        container = ContainerSettings(**operator_kwargs.pop("container", {}))
        operator = HeartbeatDockerOperator(container=container, **operator_kwargs)
        ti = RecordingTi(dag_id="launch_log", task_id=operator.task_id, run_id="manual_1",
                         try_number=1, map_index=-1, xcom={})
        ExecutorSafeguard.tracker.set(operator)  # as the task runner marks its task
        try:
            operator.execute({"ti": ti})  # type: ignore[arg-type]
        except TaskDeferred as deferred:
            return {"xcom": ti.xcom, "trigger": deferred.trigger.serialize()[1]}
        raise AssertionError("the operator did not defer")


if __name__ == "__main__":
    print(json.dumps(main(sys.argv[1], json.loads(sys.argv[2])), default=str))
