"""`api_config` validation: every key of docs/contracts/config.md, errors naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from task_config import ConfigError, validate_config
from task_config.api import CursorPagination, OAuth2ClientCredentialsAuth, PagePagination


def task(**api_config: Any) -> dict[str, Any]:
    return {
        "task_name": "orders",
        "task_type": "api",
        "docker_image": "data-collection-api:latest",
        "api_config": api_config,
    }


def test_a_full_config_with_every_key_validates() -> None:
    cfg = validate_config(
        task(
            base_url="https://api.example.com/v2",
            endpoint="/orders",
            method="GET",
            params={"status": "open", "limit": 100, "expand": True},
            headers={"Accept-Language": "en"},
            auth={
                "type": "oauth2_client_credentials",
                "token_url": "https://auth.example.com/token",
                "client_id_env": "ORDERS_CLIENT_ID",
                "client_secret_env": "ORDERS_CLIENT_SECRET",
                "scope": "orders:read",
            },
            pagination={"type": "cursor", "cursor_path": "$.meta.next"},
            records_path="$.data",
            rate_limit={"requests_per_second": 5, "burst": 10},
            retry={"max_attempts": 3, "backoff_factor": 1, "retry_on_status": [503, 429]},
            timeout=10,
            max_records=5000,
            incremental={"cursor_field": "updated_at", "param": "since", "state": "2024-01-01"},
            output_format="json",
        )
    )
    api = cfg.api_config
    assert api is not None
    assert isinstance(api.auth, OAuth2ClientCredentialsAuth)
    assert isinstance(api.pagination, CursorPagination)
    assert api.retry.retry_on_status == [429, 503]
    assert api.incremental is not None and api.incremental.state == "2024-01-01"
    # the dump the operator uploads validates again, unchanged
    assert validate_config(cfg.to_json_dict()) == cfg


def test_defaults_and_pagination_shorthand() -> None:
    api = validate_config(task(base_url="http://x.test", pagination="page")).api_config
    assert api is not None
    assert api.pagination == PagePagination(type="page")
    assert api.method == "GET" and api.output_format == "jsonl" and api.timeout == 30
    assert api.retry.max_attempts == 5 and 429 in api.retry.retry_on_status


@pytest.mark.parametrize(
    ("api_config", "expected"),
    [
        ({"base_url": "ftp://x"}, "api_config.base_url: must be an http"),
        ({"base_url": "https://u:p@x.test"}, "api_config.base_url: must not carry credentials"),
        ({"auth": {"type": "bearer", "token": "abc"}}, "api_config.auth.token: unknown key"),
        ({"auth": {"type": "bearer"}}, "api_config.auth.token_env: Field required"),
        ({"auth": {"type": "bearer", "token_env": "my-token"}}, "api_config.auth.token_env:"),
        ({"auth": {"type": "magic"}}, "api_config.auth: type must be one of 'bearer'"),
        ({"auth": {"type": "basic", "password_env": "P"}}, "exactly one of username"),
        (
            {"auth": {"type": "api_key", "key_env": "K", "location": "body"}},
            "api_config.auth.location:",
        ),
        ({"pagination": {"type": "cursor"}}, "api_config.pagination.cursor_path: Field required"),
        ({"pagination": "pages"}, "api_config.pagination: type must be one of 'none'"),
        ({"pagination": {"type": "page", "concurrency": 99}}, "pagination.concurrency:"),
        ({"rate_limit": {"requests_per_second": 0}}, "api_config.rate_limit.requests_per_second"),
        ({"retry": {"retry_on_status": [200]}}, "api_config.retry.retry_on_status: statuses"),
        ({"retry": {"max_attempts": 0}}, "api_config.retry.max_attempts"),
        ({"headers": {"Authorization": "Bearer x"}}, "api_config.headers: Authorization must"),
        ({"timeout": -1}, "api_config.timeout"),
        ({"max_records": 0}, "api_config.max_records"),
        ({"output_format": "csv"}, "api_config.output_format"),
        ({"body": {"q": 1}}, "body is set, so method must be POST"),
        ({"incremental": {"cursor_field": "updated_at"}}, "api_config.incremental.param"),
        ({"recordz_path": "$.data"}, "api_config.recordz_path: unknown key"),
    ],
)
def test_errors_name_the_field(api_config: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        validate_config(task(**api_config))
    assert expected in str(caught.value)
