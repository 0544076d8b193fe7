"""The Docker Engine API client of the operator and the trigger: parsing answers, the
requests it writes, and the API version it negotiates (against a canned engine on an
in-memory stream)."""

from __future__ import annotations

import asyncio
import json
import struct
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from canned_docker_engine import CannedEngine
from heartbeat_operator._docker_api import (
    AsyncDockerApi,
    DockerApiError,
    EngineVersionUnsupported,
    ImageMissing,
    PullFailed,
    _complete,
    demux_log_stream,
    parse_http_response,
    split_image,
)

TOO_OLD = ("client version 1.41 is too old. Minimum supported API version is 1.44, "
           "please upgrade your client to a newer version")


def test_plain_response() -> None:
    raw = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
    assert _complete(raw)
    assert parse_http_response(raw) == (200, b"{}")


def test_chunked_response_is_reassembled() -> None:
    raw = (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
           b"3\r\nabc\r\n4;ext=1\r\ndefg\r\n0\r\n\r\n")
    assert _complete(raw)
    assert parse_http_response(raw) == (200, b"abcdefg")


def test_incomplete_response_is_not_complete() -> None:
    assert not _complete(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n{}")
    assert _complete(b"HTTP/1.1 204 No Content\r\n\r\n")


def test_multiplexed_logs_are_demuxed() -> None:
    def frame(stream: int, text: bytes) -> bytes:
        return bytes([stream, 0, 0, 0]) + struct.pack(">I", len(text)) + text

    data = frame(1, b"out line\n") + frame(2, b"err line\n")
    assert demux_log_stream(data) == "out line\nerr line\n"
    assert demux_log_stream(b"plain tty output\n") == "plain tty output\n"


def test_create_sends_the_spec_as_json_and_returns_the_id() -> None:
    engine = CannedEngine((201, {"Id": "abc123", "Warnings": []}))
    spec = {"Image": "img:1", "Env": ["A=é"]}
    assert asyncio.run(engine.api().create("task-1", spec)) == "abc123"
    head, _, body = engine.sent[0].partition(b"\r\n\r\n")
    assert head.startswith(b"POST /v1.52/containers/create?name=task-1 HTTP/1.1")
    assert f"Content-Length: {len(body)}".encode() in head
    assert json.loads(body) == spec


def test_a_missing_image_and_other_errors_name_the_engine_message() -> None:
    engine = CannedEngine((404, {"message": "No such image: img:1"}),
                          (409, {"message": "Conflict. The name is in use"}))
    with pytest.raises(ImageMissing, match="No such image: img:1"):
        asyncio.run(engine.api().create("task-1", {}))
    with pytest.raises(DockerApiError, match="409: Conflict. The name is in use"):
        asyncio.run(engine.api().create("task-1", {}))


def test_a_pull_that_fails_raises_the_engines_message() -> None:
    streamed = b'{"status":"Pulling"}\n{"error":"pull access denied for nope"}\n'
    # From API 1.48 `error` is deprecated for `errorDetail`: the detail wins.
    detailed = b'{"errorDetail":{"message":"manifest unknown"},"error":"old wording"}\n'
    engine = CannedEngine((200, streamed), (200, detailed),
                          (500, {"message": "dial tcp: connection refused"}),
                          (200, b'{"status":"Downloaded"}\n'))
    api = engine.api()
    with pytest.raises(PullFailed, match="pull access denied"):
        asyncio.run(api.pull("nope"))
    with pytest.raises(PullFailed, match="manifest unknown"):
        asyncio.run(api.pull("nope"))
    with pytest.raises(PullFailed, match="500: dial tcp: connection refused"):
        asyncio.run(api.pull("nope"))
    asyncio.run(api.pull("registry:5000/team/img"))
    assert b"fromImage=registry%3A5000%2Fteam%2Fimg&tag=latest" in engine.sent[3]


def test_a_pull_sends_the_registry_auth_header_only_when_given() -> None:
    engine = CannedEngine((200, b"{}\n"), (200, b"{}\n"))
    asyncio.run(engine.api().pull("r:5000/img:1", auth="eyJ1c2VybmFtZSI6ICJ1In0="))
    asyncio.run(engine.api().pull("r:5000/img:1"))
    assert b"\r\nX-Registry-Auth: eyJ1c2VybmFtZSI6ICJ1In0=\r\n" in engine.sent[0]
    assert b"X-Registry-Auth" not in engine.sent[1]


def test_image_names_split_into_repository_and_tag() -> None:
    assert split_image("img") == ("img", "latest")
    assert split_image("img:1.2") == ("img", "1.2")
    assert split_image("registry:5000/img") == ("registry:5000/img", "latest")
    assert split_image("registry:5000/img:2") == ("registry:5000/img", "2")
    assert split_image("img@sha256:ab") == ("img@sha256:ab", "")


def test_containers_filter_by_every_label() -> None:
    engine = CannedEngine((200, [{"Id": "x", "State": "running"}]))
    found = asyncio.run(engine.api().containers(["a=1", "b=2"], running_only=True))
    assert found == [{"Id": "x", "State": "running"}]
    query = engine.sent[0].split(b" ")[1].decode()
    filters = json.loads(parse_qs(urlsplit(query).query)["filters"][0])
    assert filters == {"label": ["a=1", "b=2"], "status": ["running"]}


def test_the_version_is_asked_once_per_client_then_spoken_in_every_path() -> None:
    engine = CannedEngine((204, b""), (204, b""), newest="1.43", oldest="1.12")
    api = engine.api()
    asyncio.run(api.start("a"))
    asyncio.run(api.start("b"))
    assert len(engine.asked) == 1
    assert engine.asked[0].startswith(b"GET /version HTTP/1.1")  # unversioned
    assert engine.paths() == [b"/v1.43/containers/a/start", b"/v1.43/containers/b/start"]


def test_a_newer_engine_is_spoken_to_at_the_newest_version_this_client_knows() -> None:
    engine = CannedEngine((204, b""), newest="1.55", oldest="1.44")
    asyncio.run(engine.api().start("a"))
    assert engine.paths() == [b"/v1.52/containers/a/start"]


def test_an_engine_without_a_common_version_is_named_with_both_ranges() -> None:
    engine = CannedEngine(newest="1.60", oldest="1.53")
    with pytest.raises(EngineVersionUnsupported, match=(
            r"the Docker engine of execution host h:22 speaks Engine API 1\.53 to 1\.60, "
            r"this client 1\.41 to 1\.52: no version in common")):
        asyncio.run(engine.api().start("a"))
    assert engine.sent == []  # nothing was sent at a version the engine refuses


def test_a_pinned_version_is_not_negotiated() -> None:
    engine = CannedEngine((400, {"message": TOO_OLD}))
    with pytest.raises(DockerApiError, match="400: client version 1.41 is too old"):
        asyncio.run(engine.api(version="1.41").start("a"))
    assert engine.asked == []
    assert engine.paths() == [b"/v1.41/containers/a/start"]


def test_a_version_refused_later_is_negotiated_again_once() -> None:
    """An engine upgraded under a long-lived client (a waiting trigger) refuses the
    version negotiated before; the client asks again and repeats the call."""
    engine = CannedEngine((204, b""), (400, {"message": TOO_OLD}), (204, b""),
                          newest="1.41", oldest="1.12")
    api = engine.api()
    asyncio.run(api.start("a"))
    engine.newest, engine.oldest = "1.52", "1.44"
    asyncio.run(api.start("b"))
    assert len(engine.asked) == 2
    assert engine.paths() == [b"/v1.41/containers/a/start", b"/v1.41/containers/b/start",
                              b"/v1.52/containers/b/start"]


def test_an_engine_that_hides_version_is_asked_by_ping() -> None:
    """A socket proxy may refuse /version and allow /_ping, whose Api-Version header
    names the newest version only."""
    requests: list[bytes] = []
    answers = {
        b"/version": b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n",
        b"/_ping": b"HTTP/1.1 200 OK\r\nApi-Version: 1.47\r\nContent-Length: 2\r\n\r\nOK",
    }

    async def open_stream() -> tuple[Any, Any]:
        reader = asyncio.StreamReader()

        class Writer:
            def write(self, data: bytes) -> None:
                requests.append(data)
                reader.feed_data(answers.get(data.split(b" ")[1],
                                             b"HTTP/1.1 204 No Content\r\n\r\n"))
                reader.feed_eof()

            def close(self) -> None:
                pass

        return reader, Writer()

    asyncio.run(AsyncDockerApi(open_stream).start("a"))
    assert [r.split(b" ")[1] for r in requests] == [
        b"/version", b"/_ping", b"/v1.47/containers/a/start"]


def test_wait_blocks_until_not_running_and_returns_the_exit_code() -> None:
    engine = CannedEngine((200, {"StatusCode": 3, "Error": None}),
                          (404, {"message": "No such container: gone"}))
    assert asyncio.run(engine.api().wait("task-1")) == 3
    assert engine.paths()[0] == b"/v1.52/containers/task-1/wait?condition=not-running"
    with pytest.raises(DockerApiError, match="404: No such container"):
        asyncio.run(engine.api().wait("gone"))
