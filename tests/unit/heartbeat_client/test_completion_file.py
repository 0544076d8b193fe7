"""The completion written to {OUTPUT_DIR}/_completion.json."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from heartbeat_client import COMPLETION_FILENAME
from heartbeat_client._completion_file import write_completion_file


def test_writes_the_payload_and_replaces_an_older_one(tmp_path: Path) -> None:
    first = write_completion_file(str(tmp_path), b'{"success": false}')
    second = write_completion_file(str(tmp_path), b'{"success": true}')
    assert first == second == str(tmp_path / COMPLETION_FILENAME)
    assert json.loads((tmp_path / COMPLETION_FILENAME).read_text()) == {"success": True}
    assert sorted(os.listdir(tmp_path)) == [COMPLETION_FILENAME]  # no temporary file left


def test_creates_a_missing_output_dir(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "out"
    assert write_completion_file(str(target), b"{}") == str(target / COMPLETION_FILENAME)


def test_readable_by_other_users(tmp_path: Path) -> None:
    write_completion_file(str(tmp_path), b"{}")
    assert (tmp_path / COMPLETION_FILENAME).stat().st_mode & 0o777 == 0o644


def test_an_unwritable_dir_is_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert write_completion_file(str(blocker / "out"), b"{}") is None
    assert "could not write the completion" in caplog.text
