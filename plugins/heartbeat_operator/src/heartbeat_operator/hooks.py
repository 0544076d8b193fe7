"""Connections to the outside world: the execution host (SSH, SFTP, Docker), the
heartbeat API and Redis. Everything comes from Airflow connections."""

from __future__ import annotations

import json
import posixpath
import ssl
import stat
from typing import Any

import httpx
import paramiko
from airflow.providers.ssh.hooks.ssh import SSHHook
from airflow.sdk import BaseHook
from docker import DockerClient
from docker.tls import TLSConfig
from docker.transport.sshconn import SSHHTTPAdapter

from heartbeat_operator._remote import RemotePaths, rm_command
from heartbeat_operator.settings import DockerEndpoint


class _SharedSSHAdapter(SSHHTTPAdapter):  # type: ignore[misc]
    """docker-py's SSH adapter, on an SSH client we already opened and checked."""

    def __init__(self, ssh_client: paramiko.SSHClient, timeout: int) -> None:
        super().__init__("ssh://execution-host", timeout=timeout, shell_out=True)
        self.ssh_client = ssh_client

    def _connect(self) -> None:
        raise ConnectionError("the SSH connection to the execution host was closed")


class ExecutionHost:
    """One SSH connection to an execution host, reused for SFTP, commands and Docker."""

    def __init__(self, ssh_conn_id: str, endpoint: DockerEndpoint, *, timeout: int = 60) -> None:
        self.ssh_conn_id = ssh_conn_id
        self.endpoint = endpoint
        self._timeout = timeout
        self._hook = SSHHook(ssh_conn_id=ssh_conn_id, conn_timeout=timeout)
        self._ssh: paramiko.SSHClient | None = None
        self._sftp: paramiko.SFTPClient | None = None
        self._docker: DockerClient | None = None

    @property
    def host(self) -> str:
        return f"{self._hook.remote_host}:{self._hook.port or 22}"

    def __enter__(self) -> ExecutionHost:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def ssh(self) -> paramiko.SSHClient:
        if self._ssh is None:
            self._ssh = self._hook.get_conn()
        return self._ssh

    @property
    def sftp(self) -> paramiko.SFTPClient:
        if self._sftp is None:
            self._sftp = self.ssh.open_sftp()
        return self._sftp

    @property
    def docker(self) -> DockerClient:
        if self._docker is None:
            self._docker = self._make_docker_client()
        return self._docker

    def _make_docker_client(self) -> DockerClient:
        if self.endpoint.url != "ssh":
            tls: TLSConfig | bool = False
            if self.endpoint.uses_tls:
                tls = TLSConfig(
                    client_cert=(self.endpoint.tls_client_cert, self.endpoint.tls_client_key),
                    ca_cert=self.endpoint.tls_ca_cert,
                    verify=True,
                )
            url = self.endpoint.url.replace("tcp://", "https://" if tls else "http://")
            # A fixed API version: asking the engine would happen before trust_env is
            # off, and requests lets REQUESTS_CA_BUNDLE override the endpoint's own CA.
            client = DockerClient(base_url=url, tls=tls, timeout=self._timeout,
                                  version="1.41")
            client.api.trust_env = False
            return client
        # use_ssh_client=True makes docker-py build no client of its own; the adapter
        # then reuses our paramiko connection, whose host key the SSH hook checked.
        client = DockerClient(
            base_url="ssh://execution-host", use_ssh_client=True, version="1.41",
            timeout=self._timeout,
        )
        adapter = _SharedSSHAdapter(self.ssh, self._timeout)
        client.api.mount("http+docker://ssh", adapter)
        client.api._custom_adapter = adapter
        return client

    # -- files -------------------------------------------------------------------
    def run(self, command: str) -> str:
        _, stdout, stderr = self.ssh.exec_command(command, timeout=self._timeout)
        code = stdout.channel.recv_exit_status()
        if code != 0:
            err = stderr.read().decode("utf-8", "replace").strip()
            raise RuntimeError(f"`{command}` failed on {self.host} (exit {code}): {err}")
        return str(stdout.read().decode("utf-8", "replace"))

    def _mkdir(self, path: str, mode: int) -> None:
        try:
            self.sftp.mkdir(path, mode)
        except OSError:
            st = self.sftp.stat(path)  # raises when it really is missing
            if not stat.S_ISDIR(st.st_mode or 0):
                raise NotADirectoryError(f"{path} on {self.host} is not a directory") from None
        self.sftp.chmod(path, mode)

    def upload_config(self, paths: RemotePaths, payload: bytes) -> None:
        """Write the config atomically: a 0600 temp file in a 0700 dir, then a rename."""
        for root in (posixpath.dirname(paths.config_dir), posixpath.dirname(paths.output_dir)):
            try:
                self.sftp.stat(root)
            except FileNotFoundError:
                self.sftp.mkdir(root, 0o711)
        self._mkdir(paths.config_dir, 0o700)
        self._mkdir(paths.output_dir, 0o700)
        tmp = paths.config_file + ".part"
        with self.sftp.open(tmp, "wb") as fh:
            fh.chmod(0o600)
            fh.write(payload)
        self.sftp.posix_rename(tmp, paths.config_file)

    def owner_of(self, path: str) -> tuple[int, int]:
        st = self.sftp.stat(path)
        return int(st.st_uid or 0), int(st.st_gid or 0)

    def chown(self, paths: RemotePaths, uid: int, gid: int) -> None:
        for path in (paths.config_dir, paths.config_file, paths.output_dir):
            self.sftp.chown(path, uid, gid)

    def read_small_file(self, path: str, limit: int = 1 << 20) -> bytes | None:
        try:
            with self.sftp.open(path, "rb") as fh:
                return bytes(fh.read(limit))
        except FileNotFoundError:
            return None

    def remove_paths(self, *paths: str) -> None:
        self.run(rm_command(*paths))

    def exists(self, path: str) -> bool:
        try:
            self.sftp.stat(path)
            return True
        except FileNotFoundError:
            return False

    def close(self) -> None:
        for closer in (self._docker, self._sftp, self._ssh):
            if closer is not None:
                try:
                    closer.close()
                except Exception:  # noqa: BLE001 - closing is best effort
                    pass
        self._docker = self._sftp = self._ssh = None


def tls_context(endpoint: DockerEndpoint) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=endpoint.tls_ca_cert)
    if endpoint.tls_client_cert and endpoint.tls_client_key:
        ctx.load_cert_chain(endpoint.tls_client_cert, endpoint.tls_client_key)
    return ctx


class HeartbeatApiClient:
    """The heartbeat API, from an Airflow `http` connection: host/port/schema address it
    from Airflow, the password is the admin token, and the extra `container_url` is the
    address containers use (default: the same)."""

    def __init__(self, conn_id: str, *, timeout: float = 10.0) -> None:
        conn = BaseHook.get_connection(conn_id)
        schema = conn.schema or "http"
        port = f":{conn.port}" if conn.port else ""
        self.base_url = f"{schema}://{conn.host}{port}"
        extra = conn.extra_dejson
        self.container_url = str(extra.get("container_url") or self.base_url)
        if not conn.password:
            raise ValueError(f"connection {conn_id!r} has no password (the admin token)")
        self._client = httpx.Client(
            base_url=self.base_url,
            timeout=timeout,
            headers={"Authorization": f"Bearer {conn.password}"},
        )

    def register(self, **meta: Any) -> str:
        """Register an execution; returns its token."""
        response = self._client.post("/api/v1/monitoring/executions", json=meta)
        if response.status_code != 201:
            raise RuntimeError(
                f"heartbeat API at {self.base_url} refused registration "
                f"({response.status_code}): {response.text[:300]}"
            )
        return str(response.json()["token"])

    def status(self, execution_id: str) -> dict[str, Any] | None:
        response = self._client.get(f"/api/v1/task/execution/{execution_id}/status")
        if response.status_code == 404:
            return None
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def close(self) -> None:
        self._client.close()


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


def dumps_config(config: dict[str, Any]) -> bytes:
    return json.dumps(config, ensure_ascii=False, indent=2).encode("utf-8")


__all__ = [
    "ExecutionHost",
    "HeartbeatApiClient",
    "dumps_config",
    "redis_url",
    "redis_url_from_connection",
    "secret_from_connection",
    "tls_context",
]
