"""Credentials on each request: bearer, API key (header or query), basic, and OAuth 2
client credentials (fetched, then refreshed before expiry or after a 401)."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, quote_plus, urlencode

import aiohttp
import orjson
from task_config.api import (
    ApiKeyAuth,
    BasicAuth,
    BearerAuth,
    OAuth2ClientCredentialsAuth,
)

from api_task._limits import backoff_delay
from api_task._secrets import Redactor, read_secret

AuthConfig = BearerAuth | ApiKeyAuth | BasicAuth | OAuth2ClientCredentialsAuth


class AuthError(Exception):
    """Credentials were refused or could not be obtained; retrying will not help."""


class Authenticator:
    """No credentials; the base for the others."""

    #: query parameters holding a secret, dropped from URLs the server hands back
    query_names: frozenset[str] = frozenset()
    can_refresh = False

    async def apply(self, headers: dict[str, str], params: dict[str, str]) -> None:
        return None

    async def refresh(self, stale: str | None) -> None:
        return None

    def current(self) -> str | None:
        """An identity of the credentials in use, so concurrent 401s refresh once."""
        return None

    def hint(self) -> str:
        return "the API needs credentials: set api_config.auth"


class StaticHeader(Authenticator):
    def __init__(self, name: str, value: str, hint: str) -> None:
        self._name, self._value, self._hint = name, value, hint

    async def apply(self, headers: dict[str, str], params: dict[str, str]) -> None:
        headers[self._name] = self._value

    def hint(self) -> str:
        return self._hint


class QueryKey(Authenticator):
    def __init__(self, name: str, value: str, hint: str) -> None:
        self._name, self._value, self._hint = name, value, hint
        self.query_names = frozenset({name})

    async def apply(self, headers: dict[str, str], params: dict[str, str]) -> None:
        params[self._name] = self._value

    def hint(self) -> str:
        return self._hint


class OAuth2ClientCredentials(Authenticator):
    can_refresh = True

    def __init__(
        self,
        config: OAuth2ClientCredentialsAuth,
        client_id: str,
        client_secret: str,
        session: aiohttp.ClientSession,
        timeout: float,
        max_attempts: int,
        redactor: Redactor,
        on_request: Callable[[], None],
    ) -> None:
        self._config = config
        self._client_id, self._client_secret = client_id, client_secret
        self._session = session
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._max_attempts = max_attempts
        self._redactor = redactor
        self._on_request = on_request
        self._token: str | None = None
        self._expires_at = float("inf")
        self._lock = asyncio.Lock()

    def hint(self) -> str:
        names = self._config.client_id_env or "client_id"
        return (
            f"check the client credentials ({names}, {self._config.client_secret_env}) "
            "and api_config.auth.scope"
        )

    def current(self) -> str | None:
        return self._token

    async def apply(self, headers: dict[str, str], params: dict[str, str]) -> None:
        if self._token is None or time.monotonic() >= self._expires_at:
            await self.refresh(self._token)
        headers["Authorization"] = f"Bearer {self._token}"

    async def refresh(self, stale: str | None) -> None:
        async with self._lock:
            # Another request already replaced the token this one was refused with.
            if self._token is not None and self._token != stale:
                return
            await self._fetch_token()

    async def _fetch_token(self) -> None:
        form = {"grant_type": "client_credentials"}
        if self._config.scope:
            form["scope"] = self._config.scope
        headers = {"Accept": "application/json"}
        if self._config.client_auth == "basic":
            pair = f"{self._client_id}:{self._client_secret}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(pair).decode()
        else:
            form |= {"client_id": self._client_id, "client_secret": self._client_secret}
        url = self._config.token_url
        last = ""
        for attempt in range(1, self._max_attempts + 1):
            self._on_request()
            try:
                async with self._session.post(
                    url,
                    data=urlencode(form),
                    headers=headers | {"Content-Type": "application/x-www-form-urlencoded"},
                    timeout=self._timeout,
                ) as response:
                    body = await response.read()
                    if response.status < 400:
                        self._accept(body)
                        return
                    last = f"{response.status} {response.reason}"
                    if response.status < 500 and response.status != 429:
                        raise AuthError(
                            f"api_config.auth.token_url: POST {url} returned {last}; {self.hint()}"
                        )
            except (aiohttp.ClientConnectionError, TimeoutError) as exc:
                last = type(exc).__name__
            await asyncio.sleep(backoff_delay(attempt, 0.5, 10))
        raise AuthError(
            f"api_config.auth.token_url: no token from {url} after {self._max_attempts} "
            f"attempts (last: {last})"
        )

    def _accept(self, body: bytes) -> None:
        try:
            data: Any = orjson.loads(body)
        except orjson.JSONDecodeError:
            data = None
        token = data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise AuthError(
                f"api_config.auth.token_url: {self._config.token_url} answered without an "
                "access_token; check that it is an OAuth 2 token endpoint"
            )
        self._redactor.add(token)
        self._token = token
        lifetime = data.get("expires_in")
        if isinstance(lifetime, int | float) and lifetime > 0:
            # Renew a little early so a token never expires in flight.
            self._expires_at = time.monotonic() + lifetime - min(30.0, lifetime * 0.1)
        else:
            self._expires_at = float("inf")


def build_authenticator(
    config: AuthConfig | None,
    env: Mapping[str, str],
    redactor: Redactor,
    session: aiohttp.ClientSession,
    timeout: float,
    max_attempts: int,
    on_request: Callable[[], None],
) -> Authenticator:
    """Reads every secret up front, so a missing variable fails before any request."""
    if config is None:
        return Authenticator()
    field = "api_config.auth"
    if isinstance(config, BearerAuth):
        token = read_secret(env, config.token_env, f"{field}.token_env", redactor)
        hint = f"check the token in {config.token_env}"
        return StaticHeader("Authorization", f"Bearer {token}", hint)
    if isinstance(config, ApiKeyAuth):
        key = read_secret(env, config.key_env, f"{field}.key_env", redactor)
        hint = f"check the key in {config.key_env} and api_config.auth.name"
        if config.location == "query":
            redactor.add(quote(key, safe=""))
            redactor.add(quote_plus(key))
            return QueryKey(config.name, key, hint)
        return StaticHeader(config.name, key, hint)
    if isinstance(config, BasicAuth):
        if config.username_env:
            user = read_secret(env, config.username_env, f"{field}.username_env", redactor)
        else:
            user = config.username or ""
        password = read_secret(env, config.password_env, f"{field}.password_env", redactor)
        encoded = base64.b64encode(f"{user}:{password}".encode()).decode()
        redactor.add(encoded)
        hint = f"check the user name and the password in {config.password_env}"
        return StaticHeader("Authorization", f"Basic {encoded}", hint)
    if config.client_id_env:
        client_id = read_secret(env, config.client_id_env, f"{field}.client_id_env", redactor)
    else:
        client_id = config.client_id or ""
    secret = read_secret(env, config.client_secret_env, f"{field}.client_secret_env", redactor)
    pair = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    redactor.add(pair)
    return OAuth2ClientCredentials(
        config, client_id, secret, session, timeout, max_attempts, redactor, on_request
    )
