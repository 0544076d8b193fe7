"""A table with a column of every mappable kind, synced between each pair of the three
databases (the target table created by the sync); values must come back unchanged."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from dbsync_sides import (
    FAMILIES,
    ROUNDTRIP_COLUMNS,
    ROUNDTRIP_DDL,
    ROUNDTRIP_ROWS,
    Runner,
    Side,
    normalised,
    source_value,
)

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("target", FAMILIES)
@pytest.mark.parametrize("source", FAMILIES)
def test_every_kind_survives_the_trip(
    source: str,
    target: str,
    sides: dict[str, Side],
    run_sync: Runner,
    table_name: Callable[[], str],
) -> None:
    src, tgt = sides[f"{source}_src"], sides[f"{target}_tgt"]
    table = table_name()
    src.execute(ROUNDTRIP_DDL[source].format(t=table))
    cols = ", ".join(ROUNDTRIP_COLUMNS)
    marks = ", ".join(["%s"] * len(ROUNDTRIP_COLUMNS))
    src.execute(
        f"INSERT INTO {table} ({cols}) VALUES ({marks})",
        [
            tuple(source_value(source, c, v) for c, v in zip(ROUNDTRIP_COLUMNS, row, strict=True))
            for row in ROUNDTRIP_ROWS
        ],
        many=True,
    )

    result = run_sync(source, target, [{"name": table}], batch_size=2)

    summary = result["tables"][table]
    assert (summary["status"], summary["rows_read"], summary["batches"]) == ("completed", 3, 2)
    got = [
        tuple(normalised(c, v) for c, v in zip(ROUNDTRIP_COLUMNS, row, strict=True))
        for row in tgt.query(f"SELECT {cols} FROM {table} ORDER BY id")
    ]
    expected = [
        tuple(normalised(c, v) for c, v in zip(ROUNDTRIP_COLUMNS, row, strict=True))
        for row in ROUNDTRIP_ROWS
    ]
    for got_row, expected_row in zip(got, expected, strict=True):
        for column, got_value, expected_value in zip(
            ROUNDTRIP_COLUMNS, got_row, expected_row, strict=True
        ):
            assert got_value == expected_value, f"{source}->{target} column {column}"
