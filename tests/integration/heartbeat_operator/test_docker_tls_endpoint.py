"""A `tcp://` Docker endpoint with TLS: the operator's client and the trigger's client
both reach the engine through a mutual-TLS front, and refuse a server they cannot
verify."""

from __future__ import annotations

import asyncio
import datetime
import json
import ssl
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import docker
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from heartbeat_operator._docker_api import AsyncDockerApi
from heartbeat_operator.hooks import ExecutionHost, tls_context
from heartbeat_operator.settings import DockerEndpoint

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
DOCKER_SOCKET = "/var/run/docker.sock"


def _cert(name: str, issuer_key: ec.EllipticCurvePrivateKey | None,
          issuer: x509.Name | None, *, ca: bool, server: bool,
          ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    builder = (x509.CertificateBuilder().subject_name(subject)
               .issuer_name(issuer or subject).public_key(key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=1))
               .not_valid_after(now + datetime.timedelta(hours=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if server:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(__import__("ipaddress")
                                                        .ip_address("127.0.0.1"))]),
            critical=False)
    return key, builder.sign(issuer_key or key, hashes.SHA256())


@dataclass
class Pki:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def _write(path: Path, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate) -> Path:
    path.with_suffix(".key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    path.with_suffix(".pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    d = tmp_path_factory.mktemp("pki")
    ca_key, ca = _cert("test CA", None, None, ca=True, server=False)
    _write(d / "ca", ca_key, ca)
    s_key, s_cert = _cert("127.0.0.1", ca_key, ca.subject, ca=False, server=True)
    _write(d / "server", s_key, s_cert)
    c_key, c_cert = _cert("client", ca_key, ca.subject, ca=False, server=False)
    _write(d / "client", c_key, c_cert)
    return Pki(d / "ca.pem", d / "server.pem", d / "server.key", d / "client.pem",
               d / "client.key")


@pytest.fixture(scope="module")
def tls_front(pki: Pki) -> Iterator[int]:
    """A mutual-TLS listener in front of the engine's unix socket."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(pki.ca))
    ctx.load_cert_chain(str(pki.server_cert), str(pki.server_key))
    ctx.verify_mode = ssl.CERT_REQUIRED
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    open_writers: set[asyncio.StreamWriter] = set()

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_unix_connection(DOCKER_SOCKET)
        open_writers.update({writer, up_writer})
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    async def start() -> asyncio.Server:
        return await asyncio.start_server(handle, "127.0.0.1", 0, ssl=ctx)

    async def stop(server: asyncio.Server) -> None:
        server.close()
        for writer in open_writers:
            writer.close()
        await server.wait_closed()

    server = asyncio.run_coroutine_threadsafe(start(), loop).result(10)
    yield server.sockets[0].getsockname()[1]
    asyncio.run_coroutine_threadsafe(stop(server), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


@pytest.fixture()
def ssh_conn(monkeypatch: pytest.MonkeyPatch) -> str:
    conns = json.loads((ROOT / ".testbed" / "connections.json").read_text())
    monkeypatch.setenv("AIRFLOW_CONN_TLS_TEST_HOST", json.dumps(conns["execution_host"]))
    return "tls_test_host"


def endpoint(pki: Pki, port: int, ca: Path | None = None) -> DockerEndpoint:
    return DockerEndpoint(url=f"tcp://127.0.0.1:{port}", tls_ca_cert=str(ca or pki.ca),
                          tls_client_cert=str(pki.client_cert),
                          tls_client_key=str(pki.client_key))


def test_operator_client_reaches_the_engine_over_tls(pki: Pki, tls_front: int,
                                                     ssh_conn: str) -> None:
    label = f"tls-test={uuid.uuid4()}"

    async def listed() -> list[dict[str, Any]]:
        async with ExecutionHost(ssh_conn, endpoint(pki, tls_front)) as host:
            return await host.docker().containers([label])

    # A container made through the engine's own socket, found through the TLS front.
    local = docker.DockerClient(base_url=f"unix://{DOCKER_SOCKET}")
    made = local.containers.create("data-collection-base:latest", labels=dict([
        label.split("=", 1)]))
    try:
        assert [c["Id"] for c in asyncio.run(listed())] == [made.id]
    finally:
        made.remove(force=True)


def test_trigger_client_reaches_the_engine_over_tls(pki: Pki, tls_front: int) -> None:
    ep = endpoint(pki, tls_front)
    api = AsyncDockerApi.over_tls("127.0.0.1", tls_front, tls_context(ep))
    state = asyncio.run(api.inspect("no-such-container-for-tls-test"))
    assert state.exists is False


def test_a_server_not_signed_by_the_given_ca_is_refused(pki: Pki, tls_front: int,
                                                        tmp_path: Path) -> None:
    other_key, other_ca = _cert("other CA", None, None, ca=True, server=False)
    _write(tmp_path / "other", other_key, other_ca)
    ep = endpoint(pki, tls_front, ca=tmp_path / "other.pem")
    api = AsyncDockerApi.over_tls("127.0.0.1", tls_front, tls_context(ep))
    with pytest.raises(ssl.SSLCertVerificationError):
        asyncio.run(api.inspect("anything"))
