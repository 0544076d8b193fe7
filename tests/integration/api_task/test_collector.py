"""The collector against a live mock API: each pagination kind and each auth kind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from api_mock_server import MockApi
from api_task import CollectionError, collect_async
from api_task_helpers import SECRET_ENV, Progress, assert_no_secrets, config, read_output

pytestmark = pytest.mark.integration

IDS = list(range(1, 251))


def never() -> bool:
    return False


@pytest.mark.parametrize(
    ("kind", "extra"),
    [
        ("page", {"pagination": {"type": "page", "page_size_param": "per_page", "page_size": 100}}),
        ("page", {"pagination": {"type": "page", "concurrency": 4}}),
        ("offset", {"pagination": {"type": "offset", "limit": 100}}),
        ("offset", {"pagination": {"type": "offset", "limit": 100, "concurrency": 3}}),
        ("cursor", {"pagination": {"type": "cursor", "cursor_path": "$.meta.next_cursor"}}),
        (
            "nexturl",
            {
                "records_path": "items",
                "pagination": {"type": "cursor", "cursor_path": "next", "cursor_is_url": True},
            },
        ),
        ("link", {"records_path": None, "pagination": {"type": "link_header"}}),
    ],
)
async def test_each_pagination_kind_fetches_every_record_once(
    mock_api: MockApi, out_dir: Path, progress: Progress, kind: str, extra: dict[str, object]
) -> None:
    result = await collect_async(config(mock_api, out_dir, kind, **extra), {}, progress, never)

    assert [r["id"] for r in read_output(out_dir, result)] == IDS
    assert result["records"] == 250
    assert result["pages"] == 3
    assert result["stopped_because"] == "end_of_data"
    served = len(mock_api.requests_to(kind))
    # Fetching ahead may cancel requests past the end before the server sees them.
    ahead = extra["pagination"].get("concurrency", 1)  # type: ignore[union-attr]
    assert served <= result["requests"] <= served + ahead - 1
    assert progress.reports[-1]["stage"] == "done"
    assert not list(out_dir.glob(".*.part"))


async def test_no_pagination_takes_one_object_as_one_record(
    mock_api: MockApi, out_dir: Path, progress: Progress
) -> None:
    cfg = config(mock_api, out_dir, "single", records_path=None, output_format="json")
    result = await collect_async(cfg, {}, progress, never)

    assert read_output(out_dir, result) == [{"status": "ok", "count": 250}]
    assert result["output_files"][0].endswith(".json")


async def test_max_records_stops_mid_page(
    mock_api: MockApi, out_dir: Path, progress: Progress
) -> None:
    cfg = config(mock_api, out_dir, pagination="page", max_records=150, output_format="json")
    result = await collect_async(cfg, {}, progress, never)

    assert [r["id"] for r in read_output(out_dir, result)] == IDS[:150]
    assert result["stopped_because"] == "max_records"
    assert len(mock_api.requests_to("page")) == 2


@pytest.mark.parametrize(
    ("mode", "auth"),
    [
        ("bearer", {"type": "bearer", "token_env": "API_TOKEN"}),
        ("api_key_header", {"type": "api_key", "key_env": "API_KEY"}),
        (
            "api_key_query",
            {"type": "api_key", "key_env": "API_KEY", "name": "api_key", "location": "query"},
        ),
        ("basic", {"type": "basic", "username": "collector", "password_env": "API_PASSWORD"}),
        (
            "oauth2",
            {
                "type": "oauth2_client_credentials",
                "token_url": "TOKEN_URL",
                "client_id": "client-77",
                "client_secret_env": "OAUTH_CLIENT_SECRET",
            },
        ),
        (
            "oauth2",
            {
                "type": "oauth2_client_credentials",
                "token_url": "TOKEN_URL",
                "client_id": "client-77",
                "client_secret_env": "OAUTH_CLIENT_SECRET",
                "client_auth": "body",
            },
        ),
    ],
)
async def test_each_auth_kind_is_accepted_and_never_leaks(
    mock_api: MockApi,
    out_dir: Path,
    progress: Progress,
    all_logs: pytest.LogCaptureFixture,
    mode: str,
    auth: dict[str, str],
) -> None:
    mock_api.auth = mode
    auth = {k: (f"{mock_api.url}/oauth/token" if v == "TOKEN_URL" else v) for k, v in auth.items()}
    # link_header: the mock echoes a query key into its links; it must not be doubled.
    cfg = config(mock_api, out_dir, "link", records_path=None, pagination="link_header", auth=auth)
    result = await collect_async(cfg, SECRET_ENV, progress, never)

    assert result["records"] == 250
    assert mock_api.unauthorized == 0
    if mode == "api_key_query":
        assert all(list(s.query).count("api_key") == 1 for s in mock_api.seen)
    assert_no_secrets(all_logs, out_dir, result, progress.reports)


async def test_wrong_secret_fails_at_once_naming_status_page_and_variable(
    mock_api: MockApi, out_dir: Path, progress: Progress, all_logs: pytest.LogCaptureFixture
) -> None:
    mock_api.auth = "api_key_query"
    auth = {"type": "api_key", "key_env": "API_KEY", "name": "api_key", "location": "query"}
    cfg = config(mock_api, out_dir, pagination="page", auth=auth)
    wrong = "wrong-key-that-is-long-enough"
    with pytest.raises(CollectionError) as caught:
        await collect_async(cfg, {"API_KEY": wrong}, progress, never)

    message = str(caught.value)
    assert "401" in message and "page 1" in message and "API_KEY" in message
    assert f"{mock_api.url}/items/page?page=1" in message
    assert wrong not in message and wrong not in all_logs.text
    assert len(mock_api.seen) == 1  # not retried
    assert caught.value.result["stopped_because"] == "failed"


async def test_missing_secret_variable_fails_before_any_request(
    mock_api: MockApi, out_dir: Path, progress: Progress
) -> None:
    cfg = config(mock_api, out_dir, auth={"type": "bearer", "token_env": "API_TOKEN"})
    with pytest.raises(CollectionError, match=r"api_config\.auth\.token_env: .*API_TOKEN"):
        await collect_async(cfg, {}, progress, never)
    assert mock_api.seen == []


async def test_stop_request_ends_with_a_valid_partial_json_file(
    mock_api: MockApi, out_dir: Path, progress: Progress
) -> None:
    mock_api.records = [{"id": i, "updated_at": i} for i in range(1, 5001)]
    cfg = config(
        mock_api,
        out_dir,
        pagination="page",
        output_format="json",
        rate_limit={"requests_per_second": 20},
    )

    def after_three_pages() -> bool:
        return len(mock_api.seen) >= 3

    result = await collect_async(cfg, {}, progress, after_three_pages)

    records = read_output(out_dir, result)  # parses: the array was closed
    assert 200 <= len(records) == result["records"] < 5000
    assert [r["id"] for r in records] == list(range(1, len(records) + 1))
    assert result["stopped_because"] == "cancelled"
    assert not list(out_dir.glob(".*.part"))
    json.dumps(result)


async def test_credentials_follow_a_redirect_only_within_their_origin(
    mock_api: MockApi, out_dir: Path, progress: Progress
) -> None:
    mock_api.auth = "bearer"
    auth = {"type": "bearer", "token_env": "API_TOKEN"}
    cfg = config(mock_api, out_dir, "moved-here", pagination="page", auth=auth)
    result = await collect_async(cfg, SECRET_ENV, progress, never)
    assert result["records"] == 250
    assert result["requests"] == 8  # 4 pages, each redirected once

    mock_api.auth = "none"  # the other origin is public; it must not get our token
    mock_api.seen.clear()
    cfg = config(mock_api, out_dir, "moved-away", pagination="page", auth=auth)
    result = await collect_async(cfg, SECRET_ENV, progress, never)
    assert result["records"] == 250
    away = [s for s in mock_api.seen if s.headers["Host"].startswith("localhost")]
    assert len(away) == 4
    assert all("Authorization" not in s.headers for s in away)
