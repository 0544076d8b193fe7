"""Connections to the outside world: the execution host (SSH, SFTP, Docker), the
heartbeat API and Redis. Everything comes from Airflow connections."""

from __future__ import annotations

import asyncio
import json
import logging
import posixpath
import ssl
from typing import Any

import asyncssh
import httpx
from airflow.providers.ssh.hooks.ssh import SSHHookAsync
from airflow.sdk import BaseHook
from heartbeat_contract import http

from heartbeat_operator import _api_connection
from heartbeat_operator._api_connection import ApiConnection, auth_headers
from heartbeat_operator._docker_api import AsyncDockerApi
from heartbeat_operator._images import RegistryCredentials, normalize_registry
from heartbeat_operator._remote import RemotePaths, rm_command
from heartbeat_operator._task_log import quiet_library_loggers
from heartbeat_operator.settings import DockerEndpoint

log = logging.getLogger(__name__)


class ExecutionHost:
    """One asyncssh connection to an execution host, reused for SFTP, commands and the
    Docker engine (its socket forwarded by sshd, or `docker system dial-stdio` where
    sshd forbids that; or a `tcp://` engine with TLS). The host key is checked by the
    Airflow SSH connection (`host_key` extra or known_hosts)."""

    def __init__(self, ssh_conn_id: str, endpoint: DockerEndpoint, *,
                 timeout: float = 60.0) -> None:
        self.ssh_conn_id = ssh_conn_id
        self.endpoint = endpoint
        self._timeout = timeout
        self._ssh: asyncssh.SSHClientConnection | None = None
        self._docker: AsyncDockerApi | None = None
        self._socket_forwarding = True
        self.host = ssh_conn_id

    async def __aenter__(self) -> ExecutionHost:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    async def ssh(self) -> asyncssh.SSHClientConnection:
        conn = self._ssh
        if conn is None:
            quiet_library_loggers()
            hook = SSHHookAsync(ssh_conn_id=self.ssh_conn_id)
            conn = await asyncio.wait_for(hook.get_conn(), self._timeout)
            if conn is None:
                raise ConnectionError(f"no SSH connection to {self.ssh_conn_id}")
            host, port = conn.get_extra_info("peername") or ("?", 0)
            self.host = f"{host}:{port}"
            self._ssh = conn
        return conn

    def docker(self) -> AsyncDockerApi:
        """The host's engine; one client per connection, so the API version it speaks is
        asked once."""
        if self._docker is None:
            self._docker = self._engine()
        return self._docker

    def _engine(self) -> AsyncDockerApi:
        endpoint = self.endpoint
        if endpoint.url != "ssh":
            host, port = endpoint.host_port()
            if endpoint.uses_tls:
                return AsyncDockerApi.over_tls(host, port, tls_context(endpoint),
                                               timeout=self._timeout)

            async def plain() -> tuple[Any, Any]:
                return await asyncio.open_connection(host, port)

            return AsyncDockerApi(plain, timeout=self._timeout, engine=lambda: endpoint.url)

        async def dial() -> tuple[Any, Any]:
            ssh = await self.ssh()
            # The engine's socket forwarded by sshd; hosts that forbid stream-local
            # forwarding get `docker system dial-stdio`, which starts a process per call.
            if self._socket_forwarding:
                try:
                    return await ssh.open_unix_connection(endpoint.socket_path)
                except asyncssh.ChannelOpenError as exc:
                    log.info("No socket forwarding on %s (%s); using dial-stdio",
                             self.host, exc)
                    self._socket_forwarding = False
            proc = await ssh.create_process("docker system dial-stdio", encoding=None)
            return proc.stdout, proc.stdin

        return AsyncDockerApi(dial, timeout=self._timeout,
                              engine=lambda: f"execution host {self.host}")

    # -- files -------------------------------------------------------------------
    async def run(self, command: str) -> str:
        ssh = await self.ssh()
        result = await ssh.run(command, timeout=self._timeout)
        if result.exit_status != 0:
            err = str(result.stderr or "").strip()
            raise RuntimeError(
                f"`{command}` failed on {self.host} (exit {result.exit_status}): {err}")
        return str(result.stdout or "")

    async def upload_config(self, paths: RemotePaths, payload: bytes) -> tuple[int, int]:
        """Write the config atomically (a 0600 temp file in a 0700 dir, then a rename),
        create the output directory; the uid and gid owning them."""
        ssh = await self.ssh()
        async with ssh.start_sftp_client() as sftp:
            for root in (posixpath.dirname(paths.config_dir),
                         posixpath.dirname(paths.output_dir)):
                if not await sftp.exists(root):
                    await _mkdir(sftp, root, 0o711)
            await _mkdir(sftp, paths.config_dir, 0o700)
            await _mkdir(sftp, paths.output_dir, 0o700)
            tmp = paths.config_file + ".part"
            attrs = asyncssh.SFTPAttrs(permissions=0o600)
            async with sftp.open(tmp, "wb", attrs, encoding=None) as fh:
                await fh.chmod(0o600)
                await fh.write(payload)
            await sftp.posix_rename(tmp, paths.config_file)
            st = await sftp.stat(paths.config_dir)
            return int(st.uid or 0), int(st.gid or 0)

    async def chown(self, paths: RemotePaths, uid: int, gid: int) -> None:
        ssh = await self.ssh()
        async with ssh.start_sftp_client() as sftp:
            for path in (paths.config_dir, paths.config_file, paths.output_dir):
                await sftp.chown(path, uid=uid, gid=gid)

    async def read_small_file(self, path: str, limit: int = 1 << 20) -> bytes | None:
        """The file's first `limit` bytes; None when it does not exist."""
        ssh = await self.ssh()
        async with ssh.start_sftp_client() as sftp:
            try:
                async with sftp.open(path, "rb", encoding=None) as fh:
                    data = await fh.read(limit)
            except asyncssh.SFTPNoSuchFile:
                return None
        return data if isinstance(data, bytes) else data.encode()

    async def remove_paths(self, *paths: str) -> None:
        await self.run(rm_command(*paths))

    def close(self) -> None:
        """Drop the connection; a later call opens a new one."""
        self._docker = None
        if self._ssh is not None:
            self._ssh.close()
            self._ssh = None


async def _mkdir(sftp: asyncssh.SFTPClient, path: str, mode: int) -> None:
    try:
        await sftp.mkdir(path, asyncssh.SFTPAttrs(permissions=mode))
    except asyncssh.SFTPError:
        if not await sftp.isdir(path):  # a real failure, or a file in the way
            raise NotADirectoryError(f"cannot create directory {path}") from None
    await sftp.chmod(path, mode)


def tls_context(endpoint: DockerEndpoint) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=endpoint.tls_ca_cert)
    if endpoint.tls_client_cert and endpoint.tls_client_key:
        ctx.load_cert_chain(endpoint.tls_client_cert, endpoint.tls_client_key)
    return ctx


class HeartbeatApiHook(BaseHook):
    """The ``heartbeat`` connection type: the heartbeat API as Airflow reaches it
    (host, port, scheme), its admin token (the password) and the extras
    ``container_url`` (the address containers use) and ``ui_url`` (the live view).
    Its form is declared in provider info; ``test_connection`` backs the Test button."""

    conn_name_attr = "heartbeat_api_conn_id"
    default_conn_name = _api_connection.DEFAULT_CONN_ID
    conn_type = _api_connection.CONN_TYPE
    hook_name = _api_connection.HOOK_NAME

    def __init__(self, heartbeat_api_conn_id: str = default_conn_name, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.heartbeat_api_conn_id = heartbeat_api_conn_id

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        return _api_connection.field_behaviour()

    def get_conn(self) -> ApiConnection:
        return ApiConnection.from_connection(self.get_connection(self.heartbeat_api_conn_id))

    def test_connection(self) -> tuple[bool, str]:
        """True only when the API answers, accepts the admin token and reaches Redis."""
        try:
            api = self.get_conn()
        except Exception as exc:  # noqa: BLE001 - the Test button shows the reason
            return False, str(exc)
        quiet_library_loggers()
        with api.client() as client:
            return _api_connection.check(api, client)


class HeartbeatApiClient:
    """The heartbeat API, from a ``heartbeat`` connection (or an ``http`` one, as before
    that type existed): host/port/schema address it from Airflow, the password is the
    admin token, the extra ``container_url`` is the address containers use (default: the
    same) and ``ui_url`` the live view's."""

    def __init__(self, conn_id: str, *, timeout: float = 10.0) -> None:
        api = ApiConnection.from_connection(BaseHook.get_connection(conn_id))
        self.base_url = api.base_url
        self.container_url = api.container_url
        self.ui_url = api.ui_url
        quiet_library_loggers()
        self._client = httpx.AsyncClient(
            base_url=self.base_url, timeout=timeout, headers=auth_headers(api.token))

    async def register(self, **meta: Any) -> str:
        """Register an execution; returns its token."""
        response = await self._client.post(http.EXECUTIONS, json=meta)
        if response.status_code != 201:
            raise RuntimeError(
                f"heartbeat API at {self.base_url} refused registration "
                f"({response.status_code}): {response.text[:300]}"
            )
        return str(response.json()["token"])

    async def aclose(self) -> None:
        await self._client.aclose()


def redis_url(conn_id: str) -> str:
    return redis_url_from_connection(BaseHook.get_connection(conn_id))


def redis_url_from_connection(conn: Any) -> str:
    """A redis:// URL from an Airflow `redis` connection (password stays in memory only)."""
    extra = conn.extra_dejson
    db = extra.get("db", 0)
    scheme = "rediss" if str(extra.get("ssl", "")).lower() == "true" else "redis"
    auth = ""
    if conn.password:
        from urllib.parse import quote

        auth = f"{quote(conn.login or '', safe='')}:{quote(conn.password, safe='')}@"
    return f"{scheme}://{auth}{conn.host or 'localhost'}:{conn.port or 6379}/{db}"


_SQLALCHEMY_DRIVERS = {
    "postgres": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mysql+pymysql",
}


def sqlalchemy_url(conn: Any) -> str:
    """A SQLAlchemy URL from a postgres, mysql or sqlite Airflow connection."""
    from urllib.parse import quote

    if conn.conn_type == "sqlite":
        return f"sqlite:///{conn.host}"
    driver = _SQLALCHEMY_DRIVERS.get(conn.conn_type)
    if driver is None:
        raise ValueError(
            f"connection {conn.conn_id!r} is of type {conn.conn_type!r}; "
            "#sqlalchemy needs postgres, mysql or sqlite"
        )
    auth = quote(conn.login or "", safe="")
    if conn.password:
        auth += ":" + quote(conn.password, safe="")
    port = f":{conn.port}" if conn.port else ""
    return f"{driver}://{auth}@{conn.host}{port}/{conn.schema or ''}"


def secret_from_connection(spec: str) -> str:
    """`conn_id` -> the connection's password; `conn_id#uri` -> its Airflow URI;
    `conn_id#sqlalchemy` -> a SQLAlchemy URL for the database it names."""
    conn_id, _, part = spec.partition("#")
    conn = BaseHook.get_connection(conn_id)
    if part == "uri":
        return str(conn.get_uri())
    if part == "sqlalchemy":
        return sqlalchemy_url(conn)
    if part not in ("", "password"):
        raise ValueError(
            f"env_from_connections {spec!r}: use 'conn_id', 'conn_id#uri' or "
            "'conn_id#sqlalchemy'"
        )
    if not conn.password:
        raise ValueError(f"connection {conn_id!r} has no password to pass to the container")
    return str(conn.password)


def registry_credentials(conn_id: str) -> RegistryCredentials:
    """A registry login from an Airflow `docker` connection, as Airflow's DockerOperator
    reads it: host (and port) = the registry, login, password."""
    conn = BaseHook.get_connection(conn_id)
    if not conn.host:
        raise ValueError(f"connection {conn_id!r} has no host (the registry, e.g. "
                         "registry.example.com:5000)")
    if not conn.login or not conn.password:
        raise ValueError(f"connection {conn_id!r} needs a login and a password for "
                         f"registry {conn.host}")
    address = f"{conn.host}:{conn.port}" if conn.port else str(conn.host)
    return RegistryCredentials(conn_id=conn_id, registry=normalize_registry(address),
                               username=str(conn.login), password=str(conn.password))


def dumps_config(config: dict[str, Any]) -> bytes:
    return json.dumps(config, ensure_ascii=False, indent=2).encode("utf-8")


__all__ = [
    "ExecutionHost",
    "HeartbeatApiClient",
    "HeartbeatApiHook",
    "dumps_config",
    "redis_url",
    "redis_url_from_connection",
    "registry_credentials",
    "secret_from_connection",
    "tls_context",
]
