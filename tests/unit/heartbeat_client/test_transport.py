"""One POST over urllib: every outcome is a value, Retry-After read from the answer."""

from __future__ import annotations

import email.utils
import time

import pytest
from heartbeat_client._transport import post_json
from sdk_fake_api import FakeApi, Reply


def test_an_ok_answer_is_decoded_and_the_token_sent(fake_api: FakeApi) -> None:
    result = post_json(fake_api.url + "/api/v1/monitoring/heartbeat", b"{}", "tok", 5)
    assert (result.status, result.ok, result.body) == (
        200,
        True,
        {"status": "ok", "cancel_requested": False},
    )
    assert fake_api.requests[0].headers["Authorization"] == "Bearer tok"
    assert fake_api.requests[0].headers["Content-Type"] == "application/json"


def test_no_token_sends_no_authorization_header(fake_api: FakeApi) -> None:
    post_json(fake_api.url + "/x", b"{}", None, 5)
    assert "Authorization" not in fake_api.requests[0].headers


@pytest.mark.parametrize("as_date", [False, True])
def test_retry_after_is_read_in_both_forms(fake_api: FakeApi, as_date: bool) -> None:
    header = email.utils.formatdate(time.time() + 60, usegmt=True) if as_date else "60"
    fake_api.responder = lambda _r: Reply(429, {"detail": "slow down"}, {"Retry-After": header})
    result = post_json(fake_api.url + "/x", b"{}", "tok", 5)
    assert result.status == 429 and result.retryable
    assert result.retry_after == pytest.approx(60.0, abs=2)
    assert result.body == {"detail": "slow down"}


@pytest.mark.parametrize(("status", "retryable"), [(503, True), (500, True), (422, False)])
def test_which_errors_are_worth_retrying(fake_api: FakeApi, status: int, retryable: bool) -> None:
    fake_api.responder = lambda _r: Reply(status, {"detail": "x"})
    result = post_json(fake_api.url + "/x", b"{}", "tok", 5)
    assert (result.status, result.ok, result.retryable) == (status, False, retryable)


def test_a_refused_connection_is_a_value_not_an_exception(fake_api: FakeApi) -> None:
    url = fake_api.url + "/x"
    fake_api.close()
    result = post_json(url, b"{}", "tok", 2)
    assert result.status is None
    assert result.retryable
    assert result.error is not None and "Refused" in result.error
