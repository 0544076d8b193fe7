"""Smoke tests of the test bed: the SSH execution host, its Docker engine, and the
way back from a container to a server on the host machine."""

from __future__ import annotations

import http.server
import secrets
import shlex
import threading
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
SSH_DIR = ROOT / ".testbed" / "ssh"
BASE_IMAGE = "data-collection-base:latest"


@pytest.fixture()
def ssh() -> Iterator[paramiko.SSHClient]:
    client = paramiko.SSHClient()
    client.load_host_keys(str(SSH_DIR / "known_hosts"))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    client.connect("127.0.0.1", port=2222, username="root",
                   key_filename=str(SSH_DIR / "id_ed25519"), look_for_keys=False,
                   allow_agent=False)
    yield client
    client.close()


def run(ssh: paramiko.SSHClient, command: str) -> str:
    _, stdout, stderr = ssh.exec_command(command, timeout=120)
    code = stdout.channel.recv_exit_status()
    out = stdout.read().decode()
    assert code == 0, f"{command!r} exited {code}: {stderr.read().decode()}"
    return out


def test_unknown_host_key_is_refused() -> None:
    client = paramiko.SSHClient()
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    with pytest.raises(paramiko.SSHException, match="not found in known_hosts"):
        client.connect("127.0.0.1", port=2222, username="root",
                       key_filename=str(SSH_DIR / "id_ed25519"), look_for_keys=False,
                       allow_agent=False)
    client.close()


def test_password_login_is_refused() -> None:
    client = paramiko.SSHClient()
    client.load_host_keys(str(SSH_DIR / "known_hosts"))
    with pytest.raises(paramiko.AuthenticationException):
        client.connect("127.0.0.1", port=2222, username="root", password="root",
                       look_for_keys=False, allow_agent=False)
    client.close()


def test_file_uploaded_by_sftp_is_read_by_a_container_on_the_ssh_host(
    ssh: paramiko.SSHClient, tmp_path: Path
) -> None:
    token = secrets.token_hex(8)
    remote = f"/tmp/testbed-smoke-{token}.json"
    sftp = ssh.open_sftp()
    try:
        with sftp.open(remote, "w") as fh:
            fh.write(f'{{"token": "{token}"}}')
        out = run(ssh, f"docker run --rm -v {remote}:/app/config.json:ro {BASE_IMAGE} "
                       "cat /app/config.json")
        assert out == f'{{"token": "{token}"}}'
    finally:
        sftp.remove(remote)
        sftp.close()


class _Recorder(http.server.BaseHTTPRequestHandler):
    seen: list[str] = []

    def do_GET(self) -> None:  # noqa: N802
        _Recorder.seen.append(self.path)
        body = b"hello from the host"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def test_container_reaches_a_server_on_the_host_machine(ssh: paramiko.SSHClient) -> None:
    # Bound on all interfaces: the container comes in through the bridge gateway.
    server = http.server.ThreadingHTTPServer(("0.0.0.0", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        script = (f"import urllib.request; print(urllib.request.urlopen("
                  f"'http://host.docker.internal:{port}/ping', timeout=10).read().decode())")
        out = run(ssh, f"docker run --rm --add-host host.docker.internal:host-gateway "
                       f"{BASE_IMAGE} python -c {shlex.quote(script)}")
        assert out.strip() == "hello from the host"
        assert "/ping" in _Recorder.seen
    finally:
        server.shutdown()
        server.server_close()
