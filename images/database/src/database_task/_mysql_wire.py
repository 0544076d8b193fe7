"""Reading a MySQL result without pymysql's per-column work.

pymysql spends most of its time decoding and converting each value of each row. The
fast path asks MySQL to render each row as one line of PostgreSQL COPY text, so all
that is left is taking the row packets off the wire as bytes: pymysql still reads the
packets (sequence numbers, errors, large packets); only the row parsing is ours.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pymysql.protocol import MysqlPacket


class _RawPacket:
    """The packet type pymysql builds for each row: the bytes, nothing parsed."""

    __slots__ = ("data", "encoding")

    def __init__(self, data: bytes, encoding: str) -> None:
        self.data = data
        self.encoding = encoding

    def is_error_packet(self) -> bool:
        return self.data[0] == 0xFF

    def raise_for_error(self) -> None:
        MysqlPacket(self.data, self.encoding).raise_for_error()


def _fields(data: bytes) -> list[bytes | None]:
    """The length-encoded strings of a text-protocol row packet (None for NULL)."""
    out: list[bytes | None] = []
    pos, end = 0, len(data)
    while pos < end:
        first = data[pos]
        if first < 251:
            size, pos = first, pos + 1
        elif first == 251:
            out.append(None)
            pos += 1
            continue
        elif first == 252:
            size, pos = int.from_bytes(data[pos + 1 : pos + 3], "little"), pos + 3
        elif first == 253:
            size, pos = int.from_bytes(data[pos + 1 : pos + 4], "little"), pos + 4
        else:
            size, pos = int.from_bytes(data[pos + 1 : pos + 9], "little"), pos + 9
        out.append(data[pos : pos + size])
        pos += size
    return out


def raw_rows(cursor: Any) -> Iterator[list[bytes | None]]:
    """The rows of the query just executed on an unbuffered (SS) cursor, as bytes."""
    conn = cursor.connection
    result = conn._result
    read_packet = conn._read_packet
    while True:
        packet = read_packet(_RawPacket)
        data = packet.data
        if data[0] == 0xFE and len(data) < 9:  # EOF: let pymysql note the status
            result._check_packet_is_eof(MysqlPacket(data, packet.encoding))
            result.unbuffered_active = False
            result.connection = None
            result.rows = None
            return
        yield _fields(data)
