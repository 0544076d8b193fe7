"""Output files: valid at every close, written to a temp name first."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from crawler_task._output import RecordWriter


@pytest.mark.parametrize("count", [0, 1, 3])
def test_json_is_a_valid_array_whatever_the_count(tmp_path: Path, count: int):
    writer = RecordWriter(tmp_path, "shop", "json", ["a"])
    for i in range(count):
        writer.write({"a": i, "page_url": "u"})
    size = writer.close()
    assert json.loads(writer.path.read_text()) == [{"a": i, "page_url": "u"} for i in range(count)]
    assert size == writer.path.stat().st_size
    assert writer.close() == size  # idempotent


def test_the_final_name_appears_only_when_closed(tmp_path: Path):
    writer = RecordWriter(tmp_path, "shop", "jsonl", ["a"])
    writer.write({"a": "é", "page_url": "u"})
    assert not writer.path.exists()
    assert [p.name for p in tmp_path.iterdir()] == [f".{writer.path.name}.part"]
    writer.close()
    assert [p.name for p in tmp_path.iterdir()] == [writer.path.name]
    assert writer.path.name.startswith("shop_") and writer.path.suffix == ".jsonl"
    assert writer.path.read_text(encoding="utf-8") == '{"a":"é","page_url":"u"}\n'


def test_csv_has_a_header_and_encodes_lists(tmp_path: Path):
    writer = RecordWriter(tmp_path / "new" / "dir", "shop", "csv", ["name", "tags"])
    writer.write({"name": "A, B", "tags": ["x", "y"], "page_url": "u"})
    writer.write({"name": None, "tags": [], "page_url": "v"})
    writer.close()
    rows = list(csv.reader(writer.path.read_text().splitlines()))
    assert rows == [["name", "tags", "page_url"], ["A, B", '["x", "y"]', "u"], ["", "[]", "v"]]


def test_a_second_file_in_the_same_second_gets_its_own_name(tmp_path: Path):
    first = RecordWriter(tmp_path, "shop", "json", ["a"])
    first.close()
    second = RecordWriter(tmp_path, "shop", "json", ["a"])
    second.close()
    assert first.path != second.path and second.path.exists() and first.path.exists()
