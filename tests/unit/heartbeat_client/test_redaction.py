"""The one redactor of a task run and its log filter (heartbeat_client._redaction)."""

from __future__ import annotations

import json
import logging
import sys

from heartbeat_client import REDACTED, RedactingFilter, Redactor


def test_text_is_redacted_plain_and_url_encoded_longest_first() -> None:
    redactor = Redactor()
    assert not redactor.active
    redactor.add("p@ss/w")
    redactor.add("postgresql://me:p%40ss%2Fw@db/x")  # contains the encoded password
    redactor.add("")
    redactor.add(None)
    assert redactor.active
    text = "connect postgresql://me:p%40ss%2Fw@db/x failed for p@ss/w (p%40ss%2Fw, p%40ss/w)"
    assert redactor.text(text) == "connect *** failed for *** (***, p%40ss/w)"
    assert redactor(text) == redactor.text(text)  # usable as a plain function too


def test_output_is_redacted_raw_and_json_escaped_keeping_json_valid() -> None:
    redactor = Redactor()
    secret = 'tok"en/with\\quote-1234'
    redactor.add(secret)
    chunk = json.dumps({"echo": secret, "raw": f"x{secret}"}, ensure_ascii=False).encode()
    assert json.loads(redactor.output(chunk)) == {"echo": REDACTED, "raw": f"x{REDACTED}"}


def test_short_secrets_and_json_literals_are_left_in_output_but_not_in_text() -> None:
    redactor = Redactor()
    for secret in ("12345678", "true", "short"):
        redactor.add(secret)
    chunk = b'{"n":12345678,"ok":true,"s":"short"}'
    assert redactor.output(chunk) == chunk
    assert redactor.text("12345678 short") == "*** ***"


def test_the_filter_redacts_message_arguments_and_traceback() -> None:
    """Moved from the api image's own filter: records of any logger, any part."""
    redactor = Redactor()
    redactor.add("s3cr3t-value-xyz")
    try:
        raise RuntimeError("boom s3cr3t-value-xyz")
    except RuntimeError:
        record = logging.LogRecord(
            "x", logging.ERROR, __file__, 1, "got %s", ("s3cr3t-value-xyz",), sys.exc_info()
        )
    assert RedactingFilter(redactor).filter(record)
    rendered = logging.Formatter().format(record)
    assert "s3cr3t-value-xyz" not in rendered
    assert "got ***" in rendered and "boom ***" in rendered


def test_the_filter_leaves_records_alone_until_a_secret_is_known() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "got %s", ("a",), None)
    assert RedactingFilter(Redactor()).filter(record)
    assert (record.msg, record.args) == ("got %s", ("a",))
