"""The output file, and secrets read for it (the redactor itself is the SDK's:
tests/unit/heartbeat_client/test_redaction.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from api_task._output import OutputWriter
from api_task._secrets import MissingSecretError, Redactor, read_secret


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_output_is_hidden_until_closed_then_valid(tmp_path: Path, fmt: str) -> None:
    writer = OutputWriter(tmp_path / "out", f"items.{fmt}", fmt)  # type: ignore[arg-type]
    writer.write([{"id": 1}, {"big": 2**70}])
    writer.write([])
    writer.write([{"id": 3, "text": "é\n"}])
    assert not (tmp_path / "out" / f"items.{fmt}").exists()
    writer.close()
    writer.close()

    text = (tmp_path / "out" / f"items.{fmt}").read_text()
    records = json.loads(text) if fmt == "json" else [json.loads(x) for x in text.splitlines()]
    assert records == [{"id": 1}, {"big": 2**70}, {"id": 3, "text": "é\n"}]
    assert [p.name for p in (tmp_path / "out").iterdir()] == [f"items.{fmt}"]


def test_empty_json_output_is_an_empty_array(tmp_path: Path) -> None:
    writer = OutputWriter(tmp_path, "x.json", "json")
    writer.close()
    assert json.loads((tmp_path / "x.json").read_text()) == []


def test_redactor_scrubs_text_and_output_keeping_json_valid(tmp_path: Path) -> None:
    redactor = Redactor()
    secret = 'tok"en/with\\quote-1234'
    assert read_secret({"T": secret}, "T", "api_config.auth.token_env", redactor) == secret
    redactor.add("12345678")  # could be a bare JSON number: left in the data

    assert redactor.text(f"GET /x?key={secret} failed") == "GET /x?key=*** failed"
    writer = OutputWriter(tmp_path, "x.jsonl", "jsonl", redactor.output)
    writer.write([{"echo": secret, "n": 12345678}])
    writer.close()
    assert json.loads((tmp_path / "x.jsonl").read_text()) == {"echo": "***", "n": 12345678}


def test_missing_secret_names_field_and_variable() -> None:
    with pytest.raises(MissingSecretError, match=r"api_config\.auth\.key_env: .* MY_KEY is not"):
        read_secret({"MY_KEY": ""}, "MY_KEY", "api_config.auth.key_env", Redactor())
