"""The Docker Engine API client of the operator and the trigger: parsing answers,
and the requests it writes (against a canned engine on an in-memory stream)."""

from __future__ import annotations

import asyncio
import json
import struct
from typing import Any

import pytest
from heartbeat_operator._docker_api import (
    AsyncDockerApi,
    DockerApiError,
    ImageMissing,
    _complete,
    demux_log_stream,
    parse_http_response,
    split_image,
)


class CannedEngine:
    """Answers each request with the next canned response; keeps what was sent."""

    def __init__(self, *answers: tuple[int, Any]) -> None:
        self.answers = list(answers)
        self.sent: list[bytes] = []

    async def open(self) -> tuple[Any, Any]:
        status, body = self.answers.pop(0)
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        reader = asyncio.StreamReader()
        reader.feed_data(f"HTTP/1.1 {status} X\r\nContent-Length: {len(payload)}\r\n\r\n"
                         .encode() + payload)
        reader.feed_eof()
        engine = self

        class Writer:
            def write(self, data: bytes) -> None:
                engine.sent.append(data)

            def close(self) -> None:
                pass

        return reader, Writer()

    def api(self) -> AsyncDockerApi:
        return AsyncDockerApi(self.open)


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
    assert head.startswith(b"POST /v1.41/containers/create?name=task-1 HTTP/1.1")
    assert f"Content-Length: {len(body)}".encode() in head
    assert json.loads(body) == spec


def test_a_missing_image_and_other_errors_name_the_engine_message() -> None:
    engine = CannedEngine((404, {"message": "No such image: img:1"}),
                          (409, {"message": "Conflict. The name is in use"}))
    with pytest.raises(ImageMissing, match="No such image: img:1"):
        asyncio.run(engine.api().create("task-1", {}))
    with pytest.raises(DockerApiError, match="409: Conflict. The name is in use"):
        asyncio.run(engine.api().create("task-1", {}))


def test_a_pull_that_streams_an_error_is_a_missing_image() -> None:
    stream = b'{"status":"Pulling"}\n{"error":"pull access denied for nope"}\n'
    engine = CannedEngine((200, stream), (200, b'{"status":"Downloaded"}\n'))
    with pytest.raises(ImageMissing, match="pull access denied"):
        asyncio.run(engine.api().pull("nope"))
    asyncio.run(engine.api().pull("registry:5000/team/img"))
    assert b"fromImage=registry%3A5000%2Fteam%2Fimg&tag=latest" in engine.sent[1]


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
    from urllib.parse import parse_qs, urlsplit

    filters = json.loads(parse_qs(urlsplit(query).query)["filters"][0])
    assert filters == {"label": ["a=1", "b=2"], "status": ["running"]}
