"""Controllable test task: a `custom` task driven by its `custom_config`.

Keys (all optional):
  steps (5), step_seconds (0.5)    progress steps and their duration
  fail_at                          raise at this step (the SDK reports the failure)
  fail_on_tries ([])               raise at the first step on these Airflow tries
  hang_at                          stop heartbeats at this step and sleep forever
  ignore_sigterm (false)           keep running through SIGTERM and cancel requests
  allocate_mb (0)                  allocate and touch this much more memory each step
  completion ("api")               "api": report through the SDK; "file": only write
                                   the completion file and exit; "none": exit silently
  exit_code (0)                    the process exit code at the end
  result ({})                      merged into result_data
"""

from __future__ import annotations

import os
import signal
import sys
import time
from typing import Any

from heartbeat_client import HeartbeatClient, load_config
from heartbeat_contract import completion, environment, states


def run(client: HeartbeatClient, spec: dict[str, Any]) -> dict[str, Any]:
    steps = int(spec.get("steps", 5))
    step_seconds = float(spec.get("step_seconds", 0.5))
    done = 0
    result: dict[str, Any] = {"steps_done": 0, "steps_total": steps, **spec.get("result", {})}
    hoard: list[bytearray] = []
    for step in range(1, steps + 1):
        if spec.get("allocate_mb"):  # touched, so it counts against a memory limit
            hoard.append(bytearray(b"x" * (int(spec["allocate_mb"]) * 1024 * 1024)))
        if client.should_stop() and not spec.get("ignore_sigterm"):
            break
        try_number = int(os.environ.get(environment.TASK_TRY_NUMBER, "1"))
        if spec.get("fail_at") == step or (step == 1 and try_number in spec.get(
                "fail_on_tries", [])):
            raise RuntimeError(f"failing at step {step} (try {try_number}) as configured")
        if spec.get("hang_at") == step:
            client.stop()
            while True:
                time.sleep(3600)
        time.sleep(step_seconds)
        sys.stdout.write(f"step {step}/{steps} done\n")
        sys.stdout.flush()
        done = step
        result["steps_done"] = done
        client.set_result(dict(result))
        client.update_status(
            states.RUNNING,
            {"stage": "working", "current_step": step, "total_steps": steps,
             "percentage": round(step / steps * 100, 1)},
        )
    return result


def write_completion_file(result: dict[str, Any]) -> None:
    """What the SDK leaves behind when the API cannot be reached, and nothing else."""
    out = os.environ.get(environment.OUTPUT_DIR, environment.DEFAULT_OUTPUT_DIR)
    body = completion.Completion(
        execution_id=os.environ.get(environment.TASK_EXECUTION_ID, ""),
        container_name=os.environ.get(environment.HOSTNAME, ""),
        success=True,
        status=states.COMPLETED,
        result_data=result,
    )
    target = os.path.join(out, completion.COMPLETION_FILENAME)
    tmp = f"{target}.part"
    with open(tmp, "wb") as fh:
        fh.write(completion.encode(body))
    os.replace(tmp, target)


def main() -> int:
    spec = dict(load_config().get("custom_config") or {})
    client = HeartbeatClient.from_env()
    if spec.get("ignore_sigterm"):
        client.start()
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    mode = spec.get("completion", "api")
    exit_code = int(spec.get("exit_code", 0))
    if mode == "api":
        with client:
            client.update_status(states.RUNNING, {"stage": "starting"})
            run(client, spec)
        return exit_code
    client.start()
    result = run(client, spec)
    client.stop()
    if mode == "file":
        write_completion_file(result)
    sys.stdout.flush()
    os._exit(exit_code)


if __name__ == "__main__":
    sys.exit(main())
