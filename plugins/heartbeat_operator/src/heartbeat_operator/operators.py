"""HeartbeatDockerOperator: validate the config, upload it over SFTP, start the
container on the execution host, then defer to HeartbeatTrigger."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from airflow.sdk import BaseOperator, Context, Variable
from airflow.sdk.exceptions import AirflowFailException
from heartbeat_contract import environment, states
from heartbeat_store import ExecutionStore
from task_config import ConfigError, TaskConfig, incremental_state, validate_config

from heartbeat_operator import _images, _incremental, _reattach, _remote, _resume
from heartbeat_operator._task_log import log_launch_summary
from heartbeat_operator.exceptions import (
    ContainerLost,
    HeartbeatTaskError,
    TaskCancelled,
    TaskFailed,
    TriggerError,
)
from heartbeat_operator.hooks import (
    ExecutionHost,
    HeartbeatApiClient,
    dumps_config,
    redis_url,
    registry_credentials,
    secret_from_connection,
)
from heartbeat_operator.links import ExecutionLink, execution_url
from heartbeat_operator.placement import HOST_LABEL, place
from heartbeat_operator.settings import ContainerSettings, DockerEndpoint, Timeouts

EVENT_KEYS = frozenset({"status", "execution_id", "container_name"})


class HeartbeatDockerOperator(BaseOperator):
    """Run a data-collection task in a container on a remote execution host.

    :param config: the task config (docs/contracts/config.md): a dict, a JSON text, or a
        path to a JSON file. Templated.
    :param ssh_conn_id: SSH connection to the execution host (host key checked), or a
        list of them: each run goes to the one with the fewest running containers,
        skipping hosts that do not answer (see ``heartbeat_operator.placement``).
    :param heartbeat_api_conn_id: `heartbeat` (or `http`) connection to the heartbeat API;
        its password is the admin token, its extra `container_url` the address
        containers use.
    :param redis_conn_id: `redis` connection to the heartbeat API's Redis.
    :param docker: the host's Docker engine (default: through the SSH connection).
    :param docker_conn_id: `docker` connection to the image's registry (host = registry,
        login, password), as Airflow's DockerOperator takes it; used to pull.
    :param container: resources, network, secrets from connections, pull and removal
        policies.
    :param timeouts: heartbeat, startup and silent-running timeouts.
    :param heartbeat_interval: seconds between the container's heartbeats.
    :param reattach: on a retry, watch the earlier try's container when it still runs
        and its execution is not final, instead of starting a new one (the earlier try
        failed only because its watch could not go on: Redis or the host unreachable,
        or the worker died). Default True.
    """

    template_fields: Sequence[str] = ("config",)
    operator_extra_links = (ExecutionLink(),)
    template_fields_renderers = {"config": "json"}
    ui_color = "#e8f4fd"

    def __init__(
        self,
        *,
        config: dict[str, Any] | str,
        ssh_conn_id: str | Sequence[str] = "execution_host",
        heartbeat_api_conn_id: str = "heartbeat_api",
        redis_conn_id: str = "heartbeat_redis",
        docker: DockerEndpoint | None = None,
        docker_conn_id: str | None = None,
        container: ContainerSettings | None = None,
        timeouts: Timeouts | None = None,
        heartbeat_interval: float = 5.0,
        reattach: bool = True,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.config = config
        self.ssh_conn_ids = [ssh_conn_id] if isinstance(ssh_conn_id, str) else list(ssh_conn_id)
        if not self.ssh_conn_ids:
            raise ValueError("ssh_conn_id: give at least one SSH connection id")
        self.heartbeat_api_conn_id = heartbeat_api_conn_id
        self.redis_conn_id = redis_conn_id
        self.docker = docker or DockerEndpoint()
        self.docker_conn_id = docker_conn_id
        self.container = container or ContainerSettings()
        self.timeouts = timeouts or Timeouts()
        self.heartbeat_interval = heartbeat_interval
        self.reattach = reattach

    # -- config -----------------------------------------------------------------------
    def load_config(self) -> TaskConfig:
        raw: Any = self.config
        if isinstance(raw, str) and not raw.lstrip().startswith("{"):
            raw = Path(raw)
        try:
            return validate_config(raw)
        except ConfigError as exc:
            # Retrying cannot fix a config: fail for good, naming the fields.
            raise AirflowFailException(f"invalid task config: {exc}") from None

    def _state_key(self, context: Context) -> str:
        return f"heartbeat_state__{self.dag_id}__{self.task_id}"

    def _with_incremental_state(self, config: TaskConfig, context: Context) -> dict[str, Any]:
        """Hand the last successful run's incremental state to this run."""
        payload = config.to_json_dict()
        incremental = incremental_state(config)
        if incremental is None or incremental.state_in(config) is not None:
            return payload
        stored = Variable.get(self._state_key(context), default=None)
        if stored is None:
            return payload
        state = _incremental.decode(stored)
        self.log.info("Resuming from the last successful run's state %s", state)
        return incremental.with_state(payload, state)

    def _keep_incremental_state(self, context: Context, result: dict[str, Any]) -> None:
        """Keep the state the next run resumes from, if this task type has one."""
        incremental = incremental_state(self.load_config())
        state = incremental.state_from_result(result) if incremental is not None else None
        if state is not None:
            Variable.set(self._state_key(context), _incremental.encode(state))

    # -- launch -------------------------------------------------------------------------
    def execute(self, context: Context) -> None:
        config = self.load_config()
        ti = context["ti"]
        earlier = self._reattachable(context) if self.reattach and ti.try_number > 1 else None
        if earlier is not None:
            ti.xcom_push(key="execution_id", value=earlier.execution_id)
            ti.xcom_push(key="container_name", value=earlier.container_name)
            ti.xcom_push(key="execution_host", value=earlier.ssh_conn_id)
            self._defer(earlier, ti, incremental_state(config) is not None)
        payload = self._with_incremental_state(config, context)
        secrets = {name: secret_from_connection(spec)
                   for name, spec in self.container.env_from_connections.items()}
        secrets[environment.TASK_TRY_NUMBER] = str(ti.try_number)
        execution_id = str(uuid.uuid4())
        launch = _remote.Launch(
            execution_id=execution_id,
            name=_remote.container_name(execution_id),
            paths=_remote.RemotePaths.for_execution(
                execution_id, self.container.config_root, self.container.output_root),
            config=config, payload=dumps_config(payload), secrets=secrets,
            dag_id=ti.dag_id, task_id=ti.task_id, run_id=ti.run_id,
            try_number=ti.try_number, map_index=_reattach.map_index_of(ti),
        )
        conn_id = asyncio.run(self._launch(launch, ti, context.get("task_state_store")))
        attempt = _reattach.Attempt(
            execution_id=execution_id, ssh_conn_id=conn_id, container_name=launch.name,
            config_dir=launch.paths.config_dir, completion_file=launch.paths.completion_file,
            try_number=ti.try_number)
        self._defer(attempt, ti, incremental_state(config) is not None)

    def _defer(self, attempt: _reattach.Attempt, ti: Any, incremental: bool) -> None:
        deadline = None
        if self.execution_timeout is not None:
            deadline = time.time() + self.execution_timeout.total_seconds()
        follows = _reattach.retry_follows(self.reattach, ti.try_number,
                                          int(getattr(ti, "max_tries", 0) or 0))
        # This try watches from now on, until its trigger holds the lease itself: a try
        # started by a clear in the meantime must not take the container over.
        key = _reattach.watch_key_of(ti)
        asyncio.run(_resume.hold_launch_lease(self.redis_conn_id, key, ti.try_number, self.log))
        self.defer(trigger=self._trigger(attempt, deadline, incremental, follows),
                   method_name="execute_complete")

    def _reattachable(self, context: Context) -> _reattach.Attempt | None:
        """The earlier try's execution, when this try should watch it (see _reattach)."""
        state_store = context.get("task_state_store")
        raw = state_store.get(_reattach.STATE_KEY) if state_store is not None else None
        if raw is None:
            return None
        try:
            attempt = _reattach.Attempt.from_json(raw)
        except ValueError as exc:
            self.log.warning("Not reattaching: %s", exc)
            return None
        ti = context["ti"]
        key = _reattach.watch_key_of(ti)
        verdict = asyncio.run(_resume.judge(attempt, key, ti.try_number, self.redis_conn_id,
                                            self.docker, self._finalize))
        if verdict.reattach:
            self.log.info("Reattaching: %s; watching it instead of starting a new container",
                          verdict.reason)
            return attempt
        self.log.info("Starting over: %s", verdict.reason)
        return None

    async def _launch(self, launch: _remote.Launch, ti: Any, state_store: Any = None) -> str:
        """Register, upload and start, over one SSH connection; the chosen host's conn id."""
        api = HeartbeatApiClient(self.heartbeat_api_conn_id)
        # With one execution host, connecting and registering run side by side.
        known = self.ssh_conn_ids[0] if len(self.ssh_conn_ids) == 1 else None
        registering = (asyncio.ensure_future(self._register(api, launch, known))
                       if known is not None else None)
        try:
            try:
                placement = await place(self.ssh_conn_ids, self.docker, self.log)
            except BaseException as exc:
                if registering is not None and isinstance(
                        (await asyncio.gather(registering, return_exceptions=True))[0], str):
                    # Registered, but the host did not answer: say so in the record.
                    await self._finalize(launch.execution_id, states.FAILED,
                                         f"launch failed: {_describe(exc)}")
                raise
            try:
                token = await (registering or self._register(api, launch, placement.conn_id))
            except BaseException:
                placement.close()
                raise
        finally:
            await api.aclose()
        conn_id = placement.conn_id
        ti.xcom_push(key="execution_id", value=launch.execution_id)
        ti.xcom_push(key="container_name", value=launch.name)
        ti.xcom_push(key="execution_host", value=conn_id)
        self.log.info("Execution %s registered; container %s", launch.execution_id, launch.name)
        host = placement.chosen
        try:
            if launch.try_number > 1:
                # An earlier try may have run on any of the hosts.
                await asyncio.gather(*(self._stop_earlier_tries(each, launch)
                                       for each in placement.all_hosts().values()))
            placement.close_others()
            if state_store is not None:
                # Before the start: a worker that dies from here on leaves its container
                # for the next try to find.
                state_store.set(_reattach.STATE_KEY, _reattach.Attempt(
                    execution_id=launch.execution_id, ssh_conn_id=conn_id,
                    container_name=launch.name, config_dir=launch.paths.config_dir,
                    completion_file=launch.paths.completion_file,
                    try_number=launch.try_number).to_json())
            await self._start(host, launch, api.container_url, token, conn_id)
        except BaseException as exc:
            await self._abandon(host, launch, exc)
            raise
        finally:
            placement.close()
        log_launch_summary(
            self.log, container=launch.name, image=launch.config.docker_image,
            execution_id=launch.execution_id, host=host.host, conn_id=conn_id,
            endpoint=self.docker, live_view=execution_url(api.ui_url, launch.execution_id))
        return conn_id

    async def _start(self, host: ExecutionHost, launch: _remote.Launch, api_url: str, token: str,
                     conn_id: str) -> None:
        """Upload the config and start the container on the chosen host."""
        uid, gid = await host.upload_config(launch.paths, launch.payload)
        if uid == 0:
            uid = gid = _remote.DEFAULT_CONTAINER_UID
            await host.chown(launch.paths, uid, gid)
        env = _remote.container_env(
            execution_id=launch.execution_id, api_base_url=api_url, token=token,
            heartbeat_interval=self.heartbeat_interval, extra=launch.secrets)
        labels = _remote.labels(
            execution_id=launch.execution_id, dag_id=launch.dag_id,
            task_id=launch.task_id, run_id=launch.run_id, try_number=launch.try_number,
            map_index=launch.map_index) | {HOST_LABEL: conn_id}
        spec = _remote.container_spec(
            image=launch.config.docker_image, env=env, labels=labels,
            user=f"{uid}:{gid}", paths=launch.paths,
            memory=_remote.memory_bytes(self.container.memory), cpus=self.container.cpus,
            network=self.container.network, extra_hosts=self.container.extra_hosts)
        await self._run_container(host, launch.config.docker_image, launch.name, spec)

    async def _register(self, api: HeartbeatApiClient, launch: _remote.Launch, conn_id: str) -> str:
        return await api.register(
            execution_id=launch.execution_id, dag_id=launch.dag_id, task_id=launch.task_id,
            run_id=launch.run_id, container_name=launch.name, host=conn_id,
            task_type=launch.config.task_type,
            # Nothing heard by then: the launch died before the start (or the container
            # is stuck before its first heartbeat); the API declares it lost.
            start_timeout=self.timeouts.startup + self.timeouts.silent_running)

    def _trigger(self, attempt: _reattach.Attempt, deadline: float | None,
                 incremental: bool, retry_follows: bool) -> Any:
        from heartbeat_operator.triggers import HeartbeatTrigger

        return HeartbeatTrigger(
            execution_id=attempt.execution_id, container_name=attempt.container_name,
            redis_conn_id=self.redis_conn_id, ssh_conn_id=attempt.ssh_conn_id,
            docker_endpoint=self.docker.as_dict(), completion_file=attempt.completion_file,
            heartbeat_timeout=self.timeouts.heartbeat, startup_timeout=self.timeouts.startup,
            silent_running_timeout=self.timeouts.silent_running, deadline=deadline,
            stop_grace_seconds=self.container.stop_grace_seconds,
            retry_budget=self.timeouts.retry_budget, config_dir=attempt.config_dir,
            remove_policy=self.container.remove,
            # Incremental state is kept by execute_complete, so such tasks resume.
            finish_on_success=not incremental, retry_follows=retry_follows,
        )

    async def _run_container(self, host: ExecutionHost, image: str, name: str,
                             spec: dict[str, Any]) -> None:
        """Create (pulling the image as ``container.pull`` says) and start."""
        credentials = (registry_credentials(self.docker_conn_id)
                       if self.docker_conn_id else None)
        await host.ssh()  # connected, host.host is its address for the messages
        container_id = await _images.create_container(
            host.docker(), name, spec, image=image, policy=self.container.pull,
            host=host.host, credentials=credentials, log=self.log)
        await host.docker().start(container_id)

    async def _stop_earlier_tries(self, host: ExecutionHost, launch: _remote.Launch) -> None:
        docker = host.docker()
        found = await docker.containers(_remote.task_instance_filter(
            dag_id=launch.dag_id, task_id=launch.task_id, run_id=launch.run_id,
            map_index=launch.map_index))
        for old in found:
            name = str((old.get("Names") or [old["Id"]])[0]).lstrip("/")
            self.log.warning("Removing container %s of an earlier try", name)
            if old.get("State") == "running":
                await docker.stop(old["Id"], self.container.stop_grace_seconds)
            await docker.remove(old["Id"])

    async def _abandon(self, host: ExecutionHost, launch: _remote.Launch,
                       exc: BaseException) -> None:
        """Launch failed: leave no config or container behind and record why."""
        self.log.error("Launch of %s failed: %s", launch.execution_id, _describe(exc))
        try:
            await host.remove_paths(launch.paths.config_dir)
        except Exception as cleanup_exc:  # noqa: BLE001
            self.log.warning("Could not remove %s: %s", launch.paths.config_dir, cleanup_exc)
        try:
            await host.docker().remove(launch.name)
        except Exception:  # noqa: BLE001 - there may be no container at all
            pass
        await self._finalize(launch.execution_id, states.FAILED,
                             f"launch failed: {_describe(exc)}"[:2000])

    async def _finalize(self, execution_id: str, status: str, message: str) -> None:
        client = aioredis.from_url(redis_url(self.redis_conn_id), socket_connect_timeout=5)
        try:
            await ExecutionStore(client).finalize(
                execution_id, status, error_message=message, reason="operator")
        finally:
            await client.aclose()

    # -- completion ---------------------------------------------------------------------
    def execute_complete(self, context: Context, event: dict[str, Any]) -> Any:
        """The trigger's outcome: the result, or the exception for how it ended. The
        trigger has already copied the container's log and cleaned up."""
        missing = EVENT_KEYS - set(event)
        if missing:
            raise TriggerError(f"trigger event without {sorted(missing)}: {event}")
        status = event["status"]
        execution_id = event["execution_id"]
        paths = _remote.RemotePaths.for_execution(
            execution_id, self.container.config_root, self.container.output_root)
        self.log.info("Outputs stay on %s in %s",
                      event.get("ssh_conn_id") or self.ssh_conn_ids[0], paths.output_dir)
        if status == states.COMPLETED:
            result = event.get("result_data") or {}
            self._keep_incremental_state(context, result)
            return result
        errors: dict[str, type[HeartbeatTaskError]] = {
            states.FAILED: TaskFailed, states.LOST: ContainerLost,
            states.CANCELLED: TaskCancelled,
        }
        error = errors.get(status, TriggerError)
        message = event.get("error_message") or status
        raise error(f"execution {execution_id} {status}: {message}",
                    execution_id=execution_id, exit_code=event.get("exit_code"))


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"
