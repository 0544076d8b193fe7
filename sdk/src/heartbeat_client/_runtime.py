"""``run_task``: everything a task image's ``__main__`` does, in one call.

    import sys
    from heartbeat_client import TaskContext, run_task
    from task_config import TaskConfig, validate_config

    def collect(ctx: TaskContext[TaskConfig]) -> dict[str, Any]:
        pages = 0
        for page in fetch_pages(ctx.config, ctx.env, ctx.redactor):
            if ctx.should_stop():          # SIGTERM or a cancel request
                break
            pages += 1
            ctx.report({"stage": "fetching", "pages": pages})
        return {"pages": pages}           # result_data of the completion

    if __name__ == "__main__":
        sys.exit(run_task(collect, task_type="api", validate=validate_config,
                          logger_name="api_task"))

In order, ``run_task``:

1. logs to stderr (``%(asctime)s %(levelname)s %(name)s: %(message)s``, level from
   ``$LOG_LEVEL``, INFO by default) through a :class:`RedactingFilter`, so no record
   carries a secret the handler added to ``ctx.redactor``;
2. builds ``HeartbeatClient.from_env()`` and starts it (heartbeats, SIGTERM/SIGINT
   turned into ``should_stop()``);
3. loads the config (``load_config()``), passes it to ``validate`` when given (its
   return value is ``ctx.config``), and checks the config's ``task_type``;
4. reports ``running`` with ``{"stage": "starting"}`` and calls ``handler(ctx)``;
5. sends the completion: the handler's return value as result_data; ``cancelled``
   when a stop was requested; ``failed`` with ``"ExcType: message"`` (redacted) when
   the handler raised, with the exception's ``partial_result`` for a
   :class:`TaskFailure`.

Exit codes (the return value, for ``sys.exit``):

- ``0`` (EXIT_OK): the task completed, or stopped early on request (cancelled);
- ``1`` (EXIT_TASK_FAILED): the handler raised; a :class:`TaskFailure` is logged in
  one line, anything else with its traceback;
- ``2`` (EXIT_CONFIG_ERROR): a bad environment (``from_env()`` refused it; nothing
  is reported to the API then) or a bad config: unreadable, refused by ``validate``
  (whatever it raises), the wrong ``task_type``, or a ``ConfigurationError`` the
  handler raised.

A second SIGINT raises ``KeyboardInterrupt`` out of ``run_task`` after the
completion said ``cancelled``; a ``SystemExit`` from the handler goes on as well.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, overload

from heartbeat_contract import states

from ._client import HeartbeatClient
from ._completion import describe_error
from ._config import config_path_from_env, load_config
from ._errors import ConfigurationError
from ._redaction import RedactingFilter, Redactor

__all__ = [
    "EXIT_CONFIG_ERROR",
    "EXIT_OK",
    "EXIT_TASK_FAILED",
    "LOG_FORMAT",
    "Reporter",
    "TaskContext",
    "TaskFailure",
    "run_task",
]

EXIT_OK = 0
EXIT_TASK_FAILED = 1
EXIT_CONFIG_ERROR = 2

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOG_LEVEL_VARIABLE = "LOG_LEVEL"

ConfigT = TypeVar("ConfigT")

# What task code calls with its progress; the status is always ``running`` meanwhile.
Reporter = Callable[[dict[str, Any]], None]


class TaskFailure(Exception):
    """A failure the task saw coming and explained: the message is safe to show.

    Raise it (or a subclass) from a handler: ``run_task`` logs it in one line, sends
    ``partial_result`` (the result_data of the work done before it, when not None)
    with the ``failed`` completion, and exits 1.
    """

    def __init__(
        self, message: str = "", partial_result: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.partial_result: dict[str, Any] | None = (
            dict(partial_result) if partial_result is not None else None
        )


@dataclass(frozen=True)
class TaskContext(Generic[ConfigT]):
    """What a ``run_task`` handler gets.

    ``config`` is what ``validate`` returned (the config file's dict without one);
    ``redactor`` is the one the log filter uses: add every secret the task reads;
    ``env`` is the environment the run was configured from.
    """

    client: HeartbeatClient
    config: ConfigT
    redactor: Redactor
    env: Mapping[str, str]

    def report(self, progress: Mapping[str, Any]) -> None:
        """Merge ``progress`` into what the next heartbeat sends (status ``running``)."""
        self.client.update_status(states.RUNNING, progress)

    def should_stop(self) -> bool:
        """True once SIGTERM/SIGINT arrived or the API asked this execution to stop."""
        return self.client.should_stop()


@overload
def run_task(
    handler: Callable[[TaskContext[dict[str, Any]]], Mapping[str, Any] | None],
    *,
    task_type: str | None = None,
    validate: None = None,
    logger_name: str = "task",
    env: Mapping[str, str] | None = None,
) -> int: ...


@overload
def run_task(
    handler: Callable[[TaskContext[ConfigT]], Mapping[str, Any] | None],
    *,
    task_type: str | None = None,
    validate: Callable[[dict[str, Any]], ConfigT],
    logger_name: str = "task",
    env: Mapping[str, str] | None = None,
) -> int: ...


def run_task(
    handler: Callable[[TaskContext[Any]], Mapping[str, Any] | None],
    *,
    task_type: str | None = None,
    validate: Callable[[dict[str, Any]], Any] | None = None,
    logger_name: str = "task",
    env: Mapping[str, str] | None = None,
) -> int:
    """Run ``handler`` as this container's task; the process exit code (see the module).

    ``task_type``: the config's ``task_type`` this image runs (None: any).
    ``validate``: turns the config file's dict into ``ctx.config``; whatever it
    raises means the config is invalid. ``logger_name``: the logger of run_task's
    own lines (the image's package name). ``env``: the environment to read instead
    of ``os.environ`` (the container's variables, ``LOG_LEVEL``).
    """
    source = os.environ if env is None else env
    redactor = Redactor()
    with _stderr_logging(source.get(LOG_LEVEL_VARIABLE), redactor):
        log = logging.getLogger(logger_name)
        try:
            client = HeartbeatClient.from_env(source)
        except ConfigurationError as exc:
            log.error("cannot start: %s", exc)
            return EXIT_CONFIG_ERROR
        with client:
            try:
                config = _load_config(source, task_type, validate)
            except Exception as exc:  # validate may raise anything: all mean a bad config
                return _failed(client, redactor, log, exc, EXIT_CONFIG_ERROR)
            context = TaskContext(client, config, redactor, source)
            context.report({"stage": "starting"})
            return _call(handler, context, log)


def _load_config(
    env: Mapping[str, str],
    task_type: str | None,
    validate: Callable[[dict[str, Any]], Any] | None,
) -> Any:
    raw = load_config(config_path_from_env(env))
    config = validate(raw) if validate is not None else raw
    if task_type is not None and raw.get("task_type") != task_type:
        raise ConfigurationError(
            f"task_type: is {raw.get('task_type')!r}; this image runs {task_type!r} tasks"
        )
    return config


def _call(
    handler: Callable[[TaskContext[Any]], Mapping[str, Any] | None],
    context: TaskContext[Any],
    log: logging.Logger,
) -> int:
    client, redactor = context.client, context.redactor
    try:
        result = handler(context)
    except ConfigurationError as exc:
        return _failed(client, redactor, log, exc, EXIT_CONFIG_ERROR)
    except TaskFailure as exc:
        if exc.partial_result is not None:
            client.set_result(exc.partial_result)
        return _failed(client, redactor, log, exc, EXIT_TASK_FAILED)
    except Exception as exc:
        return _failed(client, redactor, log, exc, EXIT_TASK_FAILED, traceback=True)
    if result is not None:
        client.set_result(result)
    return EXIT_OK  # leaving the client's block sends ``completed`` (``cancelled`` if stopped)


def _failed(
    client: HeartbeatClient,
    redactor: Redactor,
    log: logging.Logger,
    exc: Exception,
    exit_code: int,
    *,
    traceback: bool = False,
) -> int:
    """Send the ``failed`` completion (message redacted), log it, return ``exit_code``."""
    message = redactor.text(describe_error(exc))
    client.flush(timeout=min(2.0, client.heartbeat_interval))
    client.send_completion(False, client.result, error_message=message, status=states.FAILED)
    what = "invalid config" if exit_code == EXIT_CONFIG_ERROR else "task failed"
    log.error("%s: %s", what, message, exc_info=exc if traceback else None)
    return exit_code


@contextlib.contextmanager
def _stderr_logging(level_name: str | None, redactor: Redactor) -> Iterator[None]:
    """Root logging to stderr through the redacting filter; put back on exit."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(RedactingFilter(redactor))
    root = logging.getLogger()
    previous_level = root.level
    level, problem = _log_level(level_name)
    root.addHandler(handler)
    root.setLevel(level)
    if problem:
        logging.getLogger("heartbeat_client").warning("%s", problem)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(previous_level)
        handler.flush()


def _log_level(raw: str | None) -> tuple[int, str | None]:
    """The level ``$LOG_LEVEL`` names (a name or a number); INFO, with a complaint, if
    it names none: a typo there should not cost a run."""
    name = (raw or "").strip().upper()
    if not name:
        return logging.INFO, None
    if name.isdigit():
        return int(name), None
    level = logging.getLevelName(name)
    if isinstance(level, int):
        return level, None
    return logging.INFO, (
        f"{LOG_LEVEL_VARIABLE}={raw!r} is not a log level (DEBUG, INFO, WARNING, ERROR); "
        "logging at INFO"
    )
