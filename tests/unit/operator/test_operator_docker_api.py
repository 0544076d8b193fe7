"""Parsing of the Docker Engine API answers the trigger reads."""

from __future__ import annotations

import struct

from heartbeat_operator._docker_api import _complete, demux_log_stream, parse_http_response


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
