"""run_task (heartbeat_client._runtime): exit codes, the completion it sends, partial
results, the task type check, logging and the one redaction filter."""

from __future__ import annotations

import json
import logging
import os
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from heartbeat_client import (
    EXIT_CONFIG_ERROR,
    EXIT_OK,
    EXIT_TASK_FAILED,
    ConfigurationError,
    TaskContext,
    TaskFailure,
    run_task,
)
from heartbeat_client_fake_api import RecordingApi
from heartbeat_contract import COMPLETION_FILENAME, environment, states

SECRET = "s3cr3t-value-for-the-log"


def task_env(api: RecordingApi, tmp_path: Path, config: dict[str, Any] | None) -> dict[str, str]:
    """The container's environment, with ``config`` written where CONFIG_PATH points."""
    config_path = tmp_path / "config.json"
    if config is not None:
        config_path.write_text(json.dumps(config), encoding="utf-8")
    return {
        environment.TASK_EXECUTION_ID: "exec-1",
        environment.API_BASE_URL: api.url,
        environment.HEARTBEAT_TOKEN: "token-1",
        environment.HOSTNAME: "task-exec-1",
        environment.HEARTBEAT_INTERVAL: "30",
        environment.OUTPUT_DIR: str(tmp_path / "out"),
        environment.CONFIG_PATH: str(config_path),
    }


CRAWLER_CONFIG = {"task_name": "t", "task_type": "crawler", "crawler_config": {"max_pages": 3}}


def test_a_handler_that_returns_completes_with_its_result_and_exits_0(
    recording_api: RecordingApi, tmp_path: Path
) -> None:
    seen: list[TaskContext[dict[str, Any]]] = []

    def handler(ctx: TaskContext[dict[str, Any]]) -> dict[str, Any]:
        seen.append(ctx)
        ctx.report({"pages": 2})
        return {"pages": 2}

    env = task_env(recording_api, tmp_path, CRAWLER_CONFIG)
    assert run_task(handler, task_type="crawler", env=env) == EXIT_OK

    body = recording_api.completion()
    assert (body["success"], body["status"], body["result_data"]) == (
        True, states.COMPLETED, {"pages": 2}
    )  # fmt: skip
    assert body["error_message"] is None
    assert seen[0].config == CRAWLER_CONFIG and seen[0].env is env
    last = recording_api.heartbeats()[-1]
    assert last["status"] == states.RUNNING
    assert last["progress"] == {"stage": "starting", "pages": 2}
    saved = json.loads((tmp_path / "out" / COMPLETION_FILENAME).read_text())
    assert saved == body


def test_validate_turns_the_dict_into_the_handlers_config(
    recording_api: RecordingApi, tmp_path: Path
) -> None:
    def validate(raw: dict[str, Any]) -> tuple[str, int]:
        return raw["task_type"], raw["crawler_config"]["max_pages"]

    def handler(ctx: TaskContext[tuple[str, int]]) -> dict[str, Any]:
        return {"config": list(ctx.config)}

    env = task_env(recording_api, tmp_path, CRAWLER_CONFIG)
    assert run_task(handler, validate=validate, env=env) == EXIT_OK
    assert recording_api.completion()["result_data"] == {"config": ["crawler", 3]}


def test_sigterm_cancels_with_the_partial_result_and_exits_0(
    recording_api: RecordingApi, tmp_path: Path
) -> None:
    def handler(ctx: TaskContext[dict[str, Any]]) -> dict[str, Any]:
        os.kill(os.getpid(), signal.SIGTERM)
        deadline = time.monotonic() + 5
        while not ctx.should_stop():
            assert time.monotonic() < deadline, "SIGTERM never became should_stop()"
            time.sleep(0.01)
        return {"pages": 1}

    env = task_env(recording_api, tmp_path, CRAWLER_CONFIG)
    before = signal.getsignal(signal.SIGTERM)
    assert run_task(handler, env=env) == EXIT_OK

    body = recording_api.completion()
    assert (body["success"], body["status"], body["result_data"]) == (
        False, states.CANCELLED, {"pages": 1}
    )  # fmt: skip
    assert "SIGTERM" in body["error_message"]
    assert signal.getsignal(signal.SIGTERM) == before  # the client put its handler back


def test_a_task_failure_sends_its_partial_result_and_exits_1(
    recording_api: RecordingApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    class CollectionFailed(TaskFailure):
        pass

    def handler(ctx: TaskContext[dict[str, Any]]) -> dict[str, Any]:
        ctx.client.set_result({"stale": True})  # replaced by the exception's partial result
        raise CollectionFailed("page 3: 500 Internal Server Error", {"pages": 2})

    env = task_env(recording_api, tmp_path, CRAWLER_CONFIG)
    assert run_task(handler, env=env, logger_name="my_task") == EXIT_TASK_FAILED

    body = recording_api.completion()
    assert (body["success"], body["status"], body["result_data"]) == (
        False, states.FAILED, {"pages": 2}
    )  # fmt: skip
    assert body["error_message"] == "CollectionFailed: page 3: 500 Internal Server Error"
    logged = capsys.readouterr().err
    assert "ERROR my_task: task failed: CollectionFailed: page 3" in logged
    assert "Traceback" not in logged  # an explained failure is one line


def test_a_task_failure_without_a_partial_result_keeps_what_was_set(
    recording_api: RecordingApi, tmp_path: Path
) -> None:
    def handler(ctx: TaskContext[dict[str, Any]]) -> dict[str, Any]:
        ctx.client.set_result({"pages": 1})
        raise TaskFailure("gave up")

    env = task_env(recording_api, tmp_path, CRAWLER_CONFIG)
    assert run_task(handler, env=env) == EXIT_TASK_FAILED
    assert recording_api.completion()["result_data"] == {"pages": 1}


def test_an_unexpected_error_exits_1_with_its_traceback_logged(
    recording_api: RecordingApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def handler(ctx: TaskContext[dict[str, Any]]) -> dict[str, Any]:
        ctx.client.set_result({"pages": 1})
        raise KeyError("missing")

    env = task_env(recording_api, tmp_path, CRAWLER_CONFIG)
    assert run_task(handler, env=env) == EXIT_TASK_FAILED

    body = recording_api.completion()
    assert (body["status"], body["result_data"]) == (states.FAILED, {"pages": 1})
    assert body["error_message"] == "KeyError: 'missing'"
    assert "Traceback" in capsys.readouterr().err


def test_a_bad_environment_exits_2_without_reaching_the_api(
    recording_api: RecordingApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = task_env(recording_api, tmp_path, CRAWLER_CONFIG)
    del env[environment.TASK_EXECUTION_ID]
    called: list[bool] = []

    def handler(ctx: TaskContext[dict[str, Any]]) -> None:
        called.append(True)

    assert run_task(handler, env=env, logger_name="my_task") == EXIT_CONFIG_ERROR
    assert not called and not recording_api.posted
    assert f"my_task: cannot start: environment variable {environment.TASK_EXECUTION_ID}" in (
        capsys.readouterr().err
    )


def test_a_missing_config_file_exits_2_and_reports_the_failure(
    recording_api: RecordingApi, tmp_path: Path
) -> None:
    env = task_env(recording_api, tmp_path, None)
    assert run_task(lambda ctx: {}, env=env) == EXIT_CONFIG_ERROR
    body = recording_api.completion()
    assert body["status"] == states.FAILED
    assert body["error_message"].startswith("ConfigurationError: task config ")
    assert "does not exist" in body["error_message"]


def test_a_config_that_validate_refuses_exits_2_with_its_message(
    recording_api: RecordingApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    class ConfigError(ValueError):
        pass

    def validate(raw: dict[str, Any]) -> dict[str, Any]:
        raise ConfigError("crawler_config.max_pages: must be at most 2")

    env = task_env(recording_api, tmp_path, CRAWLER_CONFIG)
    assert run_task(lambda ctx: {}, validate=validate, env=env) == EXIT_CONFIG_ERROR
    message = "ConfigError: crawler_config.max_pages: must be at most 2"
    assert recording_api.completion()["error_message"] == message
    assert f"invalid config: {message}" in capsys.readouterr().err


def test_a_config_of_another_task_type_exits_2_naming_both(
    recording_api: RecordingApi, tmp_path: Path
) -> None:
    called: list[bool] = []

    def handler(ctx: TaskContext[dict[str, Any]]) -> None:
        called.append(True)

    env = task_env(recording_api, tmp_path, CRAWLER_CONFIG)
    assert run_task(handler, task_type="api", env=env) == EXIT_CONFIG_ERROR
    assert not called
    body = recording_api.completion()
    assert (body["success"], body["status"]) == (False, states.FAILED)
    assert body["error_message"] == (
        "ConfigurationError: task_type: is 'crawler'; this image runs 'api' tasks"
    )


def test_a_configuration_error_from_the_handler_exits_2(
    recording_api: RecordingApi, tmp_path: Path
) -> None:
    def handler(ctx: TaskContext[dict[str, Any]]) -> None:
        raise ConfigurationError("crawler_config: missing")

    env = task_env(recording_api, tmp_path, CRAWLER_CONFIG)
    assert run_task(handler, env=env) == EXIT_CONFIG_ERROR
    assert recording_api.completion()["status"] == states.FAILED


def test_secrets_the_handler_adds_are_redacted_from_every_log_line_and_the_completion(
    recording_api: RecordingApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def handler(ctx: TaskContext[dict[str, Any]]) -> None:
        ctx.redactor.add(SECRET)
        other = logging.getLogger("some.library")
        other.warning("connecting with %s", SECRET)
        try:
            raise RuntimeError(f"refused {SECRET}")
        except RuntimeError:
            other.exception("driver said")
        raise RuntimeError(f"auth failed for {SECRET}")

    env = task_env(recording_api, tmp_path, CRAWLER_CONFIG)
    assert run_task(handler, env=env) == EXIT_TASK_FAILED

    logged = capsys.readouterr().err
    assert SECRET not in logged
    assert "WARNING some.library: connecting with ***" in logged
    assert "RuntimeError: refused ***" in logged  # the traceback, redacted
    body = recording_api.completion()
    assert body["error_message"] == "RuntimeError: auth failed for ***"


def test_log_lines_have_the_images_format_at_the_level_of_log_level(
    recording_api: RecordingApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def handler(ctx: TaskContext[dict[str, Any]]) -> None:
        logging.getLogger("my_task").debug("detail")
        logging.getLogger("my_task").info("hidden at WARNING")
        logging.getLogger("my_task").warning("shown")

    env = task_env(recording_api, tmp_path, CRAWLER_CONFIG)
    env["LOG_LEVEL"] = "warning"
    root_level = logging.getLogger().level
    assert run_task(handler, env=env) == EXIT_OK

    lines = capsys.readouterr().err.splitlines()
    assert [line.split(" ", 2)[2] for line in lines] == ["WARNING my_task: shown"]
    assert logging.getLogger().level == root_level  # put back on return


def test_an_unknown_log_level_logs_at_info_and_says_so(
    recording_api: RecordingApi, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def handler(ctx: TaskContext[dict[str, Any]]) -> None:
        logging.getLogger("my_task").info("still shown")

    env = task_env(recording_api, tmp_path, CRAWLER_CONFIG)
    env["LOG_LEVEL"] = "LOUD"
    assert run_task(handler, env=env) == EXIT_OK
    logged = capsys.readouterr().err
    assert "LOG_LEVEL='LOUD' is not a log level" in logged
    assert "INFO my_task: still shown" in logged
