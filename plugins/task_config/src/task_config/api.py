"""`api_config` of the task config (docs/contracts/config.md).

Secrets never appear here: every credential is named by an `*_env` key holding the
name of an environment variable that the container receives.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from task_config._base import StrictModel

EnvName = Annotated[
    str,
    Field(
        min_length=1,
        max_length=200,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        description="name of an environment variable holding the secret",
    ),
]
ParamName = Annotated[str, Field(min_length=1, max_length=200)]
JsonPath = Annotated[str, Field(min_length=1, max_length=500)]
JsonScalar = str | int | float | bool
# Headers that carry credentials; they belong in `auth` with an `*_env` key.
_CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})


def _check_http_url(value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http:// or https:// URL")
    if parts.username or parts.password:
        raise ValueError("must not carry credentials; use auth with *_env keys")
    return value


class BearerAuth(StrictModel):
    type: Literal["bearer"]
    token_env: EnvName


class ApiKeyAuth(StrictModel):
    type: Literal["api_key"]
    key_env: EnvName
    name: ParamName = "X-API-Key"
    location: Literal["header", "query"] = "header"


class BasicAuth(StrictModel):
    type: Literal["basic"]
    username: str | None = Field(default=None, min_length=1, max_length=500)
    username_env: EnvName | None = None
    password_env: EnvName

    @model_validator(mode="after")
    def _one_username(self) -> BasicAuth:
        if (self.username is None) == (self.username_env is None):
            raise ValueError("set exactly one of username and username_env")
        return self


class OAuth2ClientCredentialsAuth(StrictModel):
    type: Literal["oauth2_client_credentials"]
    token_url: str = Field(max_length=2048)
    client_id: str | None = Field(default=None, min_length=1, max_length=500)
    client_id_env: EnvName | None = None
    client_secret_env: EnvName
    scope: str | None = Field(default=None, max_length=2000)
    # RFC 6749 2.3.1: servers must accept HTTP Basic; some only read the form body.
    client_auth: Literal["basic", "body"] = "basic"

    _url = field_validator("token_url")(_check_http_url)

    @model_validator(mode="after")
    def _one_client_id(self) -> OAuth2ClientCredentialsAuth:
        if (self.client_id is None) == (self.client_id_env is None):
            raise ValueError("set exactly one of client_id and client_id_env")
        return self


def _kind_of(kinds: dict[str, str], field: str) -> Discriminator:
    """A discriminator on `type` whose tags are class names, so error locations read
    `auth.token_env` rather than `auth.bearer.token_env` (models.py drops class names)."""

    def tag(value: Any) -> str | None:
        kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
        return kinds.get(kind) if isinstance(kind, str) else None

    return Discriminator(
        tag,
        custom_error_type=f"{field}_type",
        custom_error_message=f"type must be one of {', '.join(map(repr, kinds))}",
    )


_AUTH_KINDS = {
    "bearer": "BearerAuth",
    "api_key": "ApiKeyAuth",
    "basic": "BasicAuth",
    "oauth2_client_credentials": "OAuth2ClientCredentialsAuth",
}
Auth = Annotated[
    Annotated[BearerAuth, Tag("BearerAuth")]
    | Annotated[ApiKeyAuth, Tag("ApiKeyAuth")]
    | Annotated[BasicAuth, Tag("BasicAuth")]
    | Annotated[OAuth2ClientCredentialsAuth, Tag("OAuth2ClientCredentialsAuth")],
    _kind_of(_AUTH_KINDS, "auth"),
]


class NoPagination(StrictModel):
    type: Literal["none"]


class PagePagination(StrictModel):
    type: Literal["page"]
    param: ParamName = "page"
    start: int = Field(default=1, ge=0)
    page_size_param: ParamName | None = None
    page_size: int | None = Field(default=None, ge=1, le=100_000)
    # Pages fetched at once; later pages are requested before earlier ones arrive.
    concurrency: int = Field(default=1, ge=1, le=16)


class OffsetPagination(StrictModel):
    type: Literal["offset"]
    param: ParamName = "offset"
    start: int = Field(default=0, ge=0)
    limit_param: ParamName = "limit"
    limit: int = Field(default=100, ge=1, le=100_000)
    concurrency: int = Field(default=1, ge=1, le=16)


class CursorPagination(StrictModel):
    type: Literal["cursor"]
    cursor_path: JsonPath
    param: ParamName = "cursor"
    # When the body names the next page by URL (absolute or relative) not by token.
    cursor_is_url: bool = False


class LinkHeaderPagination(StrictModel):
    type: Literal["link_header"]
    rel: str = Field(default="next", min_length=1, max_length=100)


_PAGINATION_KINDS = {
    "none": "NoPagination",
    "page": "PagePagination",
    "offset": "OffsetPagination",
    "cursor": "CursorPagination",
    "link_header": "LinkHeaderPagination",
}
Pagination = Annotated[
    Annotated[NoPagination, Tag("NoPagination")]
    | Annotated[PagePagination, Tag("PagePagination")]
    | Annotated[OffsetPagination, Tag("OffsetPagination")]
    | Annotated[CursorPagination, Tag("CursorPagination")]
    | Annotated[LinkHeaderPagination, Tag("LinkHeaderPagination")],
    _kind_of(_PAGINATION_KINDS, "pagination"),
]


class RateLimit(StrictModel):
    requests_per_second: float = Field(gt=0, le=10_000)
    burst: int = Field(default=1, ge=1, le=10_000)


class Retry(StrictModel):
    max_attempts: int = Field(default=5, ge=1, le=50)
    backoff_factor: float = Field(default=0.5, ge=0, le=600)
    retry_on_status: list[int] = Field(
        default_factory=lambda: [429, 500, 502, 503, 504], max_length=100
    )
    max_backoff: float = Field(default=60, gt=0, le=3600)
    # A Retry-After longer than this fails the run instead of sleeping through it.
    max_retry_after: float = Field(default=300, gt=0, le=86_400)

    @field_validator("retry_on_status")
    @classmethod
    def _statuses(cls, value: list[int]) -> list[int]:
        bad = [s for s in value if not 400 <= s <= 599]
        if bad:
            raise ValueError(f"statuses must be 400-599, got {bad}")
        return sorted(set(value))


class Incremental(StrictModel):
    cursor_field: str = Field(min_length=1, max_length=500)
    param: ParamName
    # Highest cursor_field of the last successful run; set by the operator.
    state: JsonScalar | None = None


class ApiConfig(StrictModel):
    base_url: str | None = Field(default=None, max_length=2048)
    endpoint: str = Field(default="", max_length=2048)
    method: Literal["GET", "POST"] = "GET"
    params: dict[str, JsonScalar] = Field(default_factory=dict, max_length=200)
    headers: dict[str, str] = Field(default_factory=dict, max_length=200)
    body: dict[str, Any] | None = None
    auth: Auth | None = None
    pagination: Pagination = Field(default_factory=lambda: NoPagination(type="none"))
    records_path: JsonPath | None = None
    rate_limit: RateLimit | None = None
    retry: Retry = Field(default_factory=Retry)
    timeout: float = Field(default=30, gt=0, le=3600)
    max_records: int | None = Field(default=None, ge=1)
    incremental: Incremental | None = None
    output_format: Literal["json", "jsonl"] = "jsonl"

    _url = field_validator("base_url")(_check_http_url)

    @field_validator("pagination", mode="before")
    @classmethod
    def _pagination_shorthand(cls, value: Any) -> Any:
        # "pagination": "page" is read as {"type": "page"} with the defaults.
        return {"type": value} if isinstance(value, str) else value

    @field_validator("headers")
    @classmethod
    def _no_credential_headers(cls, value: dict[str, str]) -> dict[str, str]:
        bad = sorted(h for h in value if h.strip().lower() in _CREDENTIAL_HEADERS)
        if bad:
            raise ValueError(
                f"{', '.join(bad)} must not be in the config file; use auth with *_env keys"
            )
        return value

    @field_validator("endpoint")
    @classmethod
    def _endpoint(cls, value: str) -> str:
        if "://" in value:
            _check_http_url(value)
        return value

    @model_validator(mode="after")
    def _body_needs_post(self) -> ApiConfig:
        if self.body is not None and self.method != "POST":
            raise ValueError("body is set, so method must be POST")
        return self
