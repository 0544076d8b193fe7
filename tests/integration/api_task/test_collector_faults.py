"""Retries, rate limits and failures against the live mock API."""

from __future__ import annotations

from pathlib import Path

import pytest
from api_mock_server import MockApi
from api_task import CollectionError, collect_async
from api_task_helpers import SECRET_ENV, Progress, assert_no_secrets, config, read_output

pytestmark = pytest.mark.integration

OAUTH = {
    "type": "oauth2_client_credentials",
    "client_id": "client-77",
    "client_secret_env": "OAUTH_CLIENT_SECRET",
}


def never() -> bool:
    return False


@pytest.mark.parametrize(("form", "seconds", "at_least"), [("seconds", 1, 0.9), ("date", 2, 0.5)])
async def test_429_waits_as_long_as_retry_after_says(
    mock_api: MockApi,
    out_dir: Path,
    progress: Progress,
    form: str,
    seconds: int,
    at_least: float,
) -> None:
    mock_api.fault(2, ("429", form, seconds))
    result = await collect_async(config(mock_api, out_dir, pagination="page"), {}, progress, never)

    assert result["records"] == 250
    assert result["retries"] == 1
    assert result["rate_limited_seconds"] >= at_least
    assert "rate_limited" in progress.stages()


async def test_retry_after_beyond_the_limit_fails_at_once(
    mock_api: MockApi, out_dir: Path, progress: Progress
) -> None:
    mock_api.fault(1, ("429", "seconds", 3600))
    cfg = config(mock_api, out_dir, pagination="page")
    with pytest.raises(CollectionError, match=r"3600s .*max_retry_after"):
        await collect_async(cfg, {}, progress, never)
    assert len(mock_api.seen) == 1


async def test_a_burst_of_503_is_retried_with_backoff(
    mock_api: MockApi, out_dir: Path, progress: Progress
) -> None:
    mock_api.fault(2, 503, 503, 503)
    result = await collect_async(config(mock_api, out_dir, pagination="page"), {}, progress, never)

    assert [r["id"] for r in read_output(out_dir, result)] == list(range(1, 251))
    assert result["retries"] == 3
    assert len(mock_api.seen) == 4 + 3


async def test_503_beyond_max_attempts_fails_naming_page_and_attempts(
    mock_api: MockApi, out_dir: Path, progress: Progress
) -> None:
    mock_api.fault(2, 503, 503, 503, 503)
    cfg = config(mock_api, out_dir, pagination="page", output_format="json")
    with pytest.raises(CollectionError) as caught:
        await collect_async(cfg, {}, progress, never)

    message = str(caught.value)
    assert "page 2" in message and "after 4 attempts" in message and "503" in message
    assert caught.value.result["records"] == 100
    # the partial output is still a valid document
    assert len(read_output(out_dir, caught.value.result)) == 100


async def test_a_timeout_is_retried(mock_api: MockApi, out_dir: Path, progress: Progress) -> None:
    mock_api.fault(1, "timeout")
    cfg = config(mock_api, out_dir, pagination="page", timeout=0.5)
    result = await collect_async(cfg, {}, progress, never)

    assert result["records"] == 250
    assert result["retries"] >= 1  # more only if a loaded machine is slower than 0.5 s
    assert len(mock_api.requests_to("page")) == 4 + result["retries"]


async def test_a_malformed_page_is_retried_then_fails_clearly(
    mock_api: MockApi, out_dir: Path, progress: Progress
) -> None:
    mock_api.fault(2, "malformed")
    result = await collect_async(config(mock_api, out_dir, pagination="page"), {}, progress, never)
    assert result["records"] == 250 and result["retries"] == 1

    mock_api.fault(2, *["malformed"] * 4)
    with pytest.raises(CollectionError, match=r"page 2: .*not JSON"):
        await collect_async(config(mock_api, out_dir, pagination="page"), {}, progress, never)


async def test_a_non_retryable_4xx_fails_at_once_with_status_url_and_page(
    mock_api: MockApi, out_dir: Path, progress: Progress
) -> None:
    mock_api.fault(3, 404)
    with pytest.raises(CollectionError) as caught:
        await collect_async(config(mock_api, out_dir, pagination="page"), {}, progress, never)

    message = str(caught.value)
    assert message.startswith(f"page 3: GET {mock_api.url}/items/page?page=3 returned 404")
    assert "api_config.endpoint" in message
    assert len(mock_api.requests_to("page")) == 3


async def test_wrong_records_path_names_the_field(
    mock_api: MockApi, out_dir: Path, progress: Progress
) -> None:
    cfg = config(mock_api, out_dir, pagination="page", records_path="$.results")
    with pytest.raises(CollectionError, match=r"api_config\.records_path: .*keys \[data, page\]"):
        await collect_async(cfg, {}, progress, never)


async def test_oauth_token_expired_mid_run_is_refreshed(
    mock_api: MockApi, out_dir: Path, progress: Progress, all_logs: pytest.LogCaptureFixture
) -> None:
    mock_api.auth = "oauth2"
    mock_api.token_uses = 2  # the server drops each token after two pages
    mock_api.records = [{"id": i, "updated_at": i} for i in range(1, 501)]
    auth = {**OAUTH, "token_url": f"{mock_api.url}/oauth/token"}
    cfg = config(mock_api, out_dir, pagination="page", auth=auth)
    result = await collect_async(cfg, SECRET_ENV, progress, never)

    assert result["records"] == 500
    assert mock_api.tokens_issued == 3
    assert mock_api.unauthorized == 2
    assert_no_secrets(all_logs, out_dir, result, progress.reports)


async def test_oauth_token_is_renewed_before_it_expires(
    mock_api: MockApi, out_dir: Path, progress: Progress
) -> None:
    mock_api.auth = "oauth2"
    mock_api.token_lifetime = 1
    mock_api.records = [{"id": i, "updated_at": i} for i in range(1, 401)]
    auth = {**OAUTH, "token_url": f"{mock_api.url}/oauth/token"}
    cfg = config(
        mock_api, out_dir, pagination="page", auth=auth, rate_limit={"requests_per_second": 3}
    )
    result = await collect_async(cfg, SECRET_ENV, progress, never)

    assert result["records"] == 400
    assert mock_api.tokens_issued >= 2
    assert mock_api.unauthorized == 0


async def test_refused_client_credentials_fail_naming_the_token_url(
    mock_api: MockApi, out_dir: Path, progress: Progress, all_logs: pytest.LogCaptureFixture
) -> None:
    mock_api.auth = "oauth2"
    auth = {**OAUTH, "token_url": f"{mock_api.url}/oauth/token"}
    wrong = {"OAUTH_CLIENT_SECRET": "not-the-client-secret-at-all"}
    with pytest.raises(CollectionError) as caught:
        await collect_async(config(mock_api, out_dir, auth=auth), wrong, progress, never)

    message = str(caught.value)
    assert "api_config.auth.token_url" in message and "401" in message
    assert "OAUTH_CLIENT_SECRET" in message
    assert "not-the-client-secret-at-all" not in message + all_logs.text
    assert mock_api.requests_to("page") == []


async def test_rate_limit_is_never_exceeded_and_shows_in_progress(
    mock_api: MockApi, out_dir: Path, progress: Progress
) -> None:
    rate, burst = 4.0, 2
    mock_api.records = [{"id": i, "updated_at": i} for i in range(1, 701)]
    cfg = config(
        mock_api,
        out_dir,
        pagination={"type": "page", "concurrency": 3},
        rate_limit={"requests_per_second": rate, "burst": burst},
    )
    result = await collect_async(cfg, {}, progress, never)

    assert result["records"] == 700
    # The exact bound is proven on a virtual clock (unit tests); at the server, arrival
    # jitter under load allows only a whole-run check, with 0.2 s of slack.
    arrivals = [s.at for s in mock_api.seen]
    assert len(arrivals) <= burst + rate * (arrivals[-1] - arrivals[0] + 0.2)
    assert result["rate_limited_seconds"] > 0
    assert "rate_limited" in progress.stages()
