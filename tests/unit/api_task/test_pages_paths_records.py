"""Paths, Link headers, records and incremental cursors: pure parsing."""

from __future__ import annotations

from typing import Any

import pytest
from api_task._pages import parse_link_header
from api_task._paths import MISSING, compile_path
from api_task._records import IncrementalFilter, RecordsError, RecordsLocator, cursor_greater
from task_config.api import Incremental

BODY = {"data": {"items": [{"id": 1}, {"id": 2}], "next": "abc"}, "list": [[1], [2]]}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("$.data.next", "abc"),
        ("data.next", "abc"),
        ("$['data'][\"next\"]", "abc"),
        ("$.data.items[1].id", 2),
        ("$.data.items[-1].id", 2),
        ("$.data.missing", MISSING),
        ("$.data.items[5]", MISSING),
        ("$.data.next.deeper", MISSING),
        ("$", BODY),
        ("$.data.items[*].id", 1),  # jsonpath-ng: the first match of a scalar path
    ],
)
def test_paths(path: str, value: Any) -> None:
    assert compile_path(path, "f")(BODY) is value or compile_path(path, "f")(BODY) == value


def test_wildcard_records_path_gives_every_match() -> None:
    assert compile_path("$.data.items[*].id", "f", many=True)(BODY) == [1, 2]
    assert compile_path("$.list[*]", "f", many=True)(BODY) == [[1], [2]]


def test_a_bad_path_names_the_field() -> None:
    with pytest.raises(ValueError, match=r"api_config\.records_path: '\$\.\[\[' is not"):
        compile_path("$.[[", "api_config.records_path")


def test_link_header_rfc8288() -> None:
    header = (
        '<https://api.test/items?page=3>; rel="next last", '
        "</items?page=1>; rel=first, "
        '<https://api.test/items?page=1&a=b,c>; title="x;y"; rel="prev"'
    )
    links = parse_link_header(header, "https://api.test/items?page=2")
    assert links == {
        "next": "https://api.test/items?page=3",
        "last": "https://api.test/items?page=3",
        "first": "https://api.test/items?page=1",
        "prev": "https://api.test/items?page=1&a=b,c",
    }
    assert parse_link_header("garbage", "https://api.test/") == {}


def test_records_locator() -> None:
    locate = RecordsLocator("$.data.items", single_object_ok=False)
    assert locate.records(BODY, 1) == [{"id": 1}, {"id": 2}]
    assert locate.records({"data": {}}, 2) == []  # a last page may omit the list
    assert locate.records(None, 1) == []
    with pytest.raises(RecordsError, match=r"not in the response of page 1 .*keys \[other\]"):
        locate.records({"other": 1}, 1)
    with pytest.raises(RecordsError, match="is a JSON str, not a list"):
        RecordsLocator("$.data.next", single_object_ok=False).records(BODY, 1)
    whole = RecordsLocator(None, single_object_ok=False)
    assert whole.records([1, 2], 1) == [1, 2]
    with pytest.raises(RecordsError, match="set records_path"):
        whole.records({"data": []}, 1)
    assert RecordsLocator(None, single_object_ok=True).records({"a": 1}, 1) == [{"a": 1}]


@pytest.mark.parametrize(
    ("left", "right", "greater"),
    [
        (5, 3, True),
        (3, 5, False),
        (10, "9", True),  # a numeric state given as a string
        ("2024-02-01T00:00:00Z", "2024-01-31T23:59:59Z", True),
        ("2024-01-01", "2024-01-01", False),
        (1.5, 1, True),
    ],
)
def test_cursor_order(left: Any, right: Any, greater: bool) -> None:
    assert cursor_greater(left, right) is greater


def test_incremental_filter_keeps_newer_and_records_without_a_cursor() -> None:
    inc = IncrementalFilter(Incremental(cursor_field="meta.ts", param="since", state=10))
    records = [{"meta": {"ts": 9}}, {"meta": {"ts": 11}}, {"meta": {}}, {"meta": {"ts": 12}}]
    kept = inc.newer(records)
    assert kept == [{"meta": {"ts": 11}}, {"meta": {}}, {"meta": {"ts": 12}}]
    assert inc.skipped == 1 and inc.without_cursor == 1
    assert inc.state() == 10  # nothing written yet
    inc.observe(kept)
    assert inc.state() == 12
