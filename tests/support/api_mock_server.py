"""A third-party API double for the api task's tests: every auth and pagination kind,
with faults to inject (statuses, Retry-After, timeouts, malformed bodies, token expiry).

Served by aiohttp.web on 127.0.0.1 on a free port, access log off (it would print the
query-string key, which is the mock's business, not the collector's).
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

import orjson
from aiohttp import web

BEARER_TOKEN = "bearer-secret-7f3a9c1e55"
API_KEY = "apikey-secret-91bd22e0c4"
BASIC_USER = "collector"
BASIC_PASSWORD = "basic-secret-3c8e1f7a"
CLIENT_ID = "client-77"
CLIENT_SECRET = "oauth-client-secret-5e2d90ab"
SECRETS = (BEARER_TOKEN, API_KEY, BASIC_PASSWORD, CLIENT_SECRET)


@dataclass
class Seen:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    at: float


@dataclass
class MockApi:
    records: list[dict[str, Any]] = field(
        default_factory=lambda: [
            {"id": i, "updated_at": i, "name": f"item {i}"} for i in range(1, 251)
        ]
    )
    page_size: int = 100
    auth: str = "none"  # none | bearer | api_key_header | api_key_query | basic | oauth2
    honour_since: bool = True
    token_lifetime: int = 3600
    token_uses: int | None = None  # revoke each issued token after this many uses
    faults: dict[int, deque[Any]] = field(default_factory=lambda: defaultdict(deque))
    seen: list[Seen] = field(default_factory=list)
    tokens_issued: int = 0
    unauthorized: int = 0
    url: str = ""
    _tokens: dict[str, int] = field(default_factory=dict)

    def fault(self, page: int, *faults: Any) -> None:
        """Faults for the next requests of `page`: a status, ("429", "seconds"|"date",
        n), "timeout", "malformed" or "401"."""
        self.faults[page].extend(faults)

    # ---------------------------------------------------------------- auth
    def _authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if self.auth == "none":
            return True
        if self.auth == "bearer":
            return header == f"Bearer {BEARER_TOKEN}"
        if self.auth == "api_key_header":
            return request.headers.get("X-API-Key") == API_KEY
        if self.auth == "api_key_query":
            return request.query.get("api_key") == API_KEY
        if self.auth == "basic":
            pair = base64.b64encode(f"{BASIC_USER}:{BASIC_PASSWORD}".encode()).decode()
            return header == f"Basic {pair}"
        token = header.removeprefix("Bearer ")
        if token not in self._tokens:
            return False
        self._tokens[token] += 1
        return self.token_uses is None or self._tokens[token] <= self.token_uses

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        pair = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        by_basic = request.headers.get("Authorization") == f"Basic {pair}"
        by_body = form.get("client_id") == CLIENT_ID and form.get("client_secret") == CLIENT_SECRET
        if form.get("grant_type") != "client_credentials" or not (by_basic or by_body):
            return web.json_response({"error": "invalid_client"}, status=401)
        self.tokens_issued += 1
        token = f"access-{self.tokens_issued}-{time.monotonic_ns()}"
        self._tokens[token] = 0
        return web.json_response(
            {"access_token": token, "token_type": "bearer", "expires_in": self.token_lifetime}
        )

    # ---------------------------------------------------------------- data
    def _visible(self, request: web.Request) -> list[dict[str, Any]]:
        since = request.query.get("since")
        if since is None or not self.honour_since:
            return self.records
        return [r for r in self.records if r["updated_at"] > int(since)]

    async def _fault(self, page: int) -> web.StreamResponse | None:
        queue = self.faults.get(page)
        if not queue:
            return None
        fault = queue.popleft()
        if fault == "timeout":
            await asyncio.sleep(30)  # the client gives up long before
        if fault == "malformed":
            return web.Response(body=b'{"data": [{"id": 1}, ', content_type="application/json")
        if isinstance(fault, tuple):
            _, form, seconds = fault
            if form == "seconds":
                value = str(seconds)
            else:
                value = formatdate(time.time() + seconds, usegmt=True)
            headers = {"Retry-After": value}
            return web.json_response({"error": "slow down"}, status=429, headers=headers)
        return web.json_response({"error": f"injected {fault}"}, status=int(fault))

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append(
            Seen(request.path, dict(request.query), dict(request.headers), time.monotonic())
        )
        kind = request.match_info["kind"]
        if kind.startswith("moved-"):  # redirects to /items/page, here or at another origin
            host = "localhost" if kind == "moved-away" else "127.0.0.1"
            port = request.url.port
            location = f"http://{host}:{port}/items/page?{request.query_string}"
            return web.Response(status=302, headers={"Location": location})
        page = self._page_number(kind, request)
        injected = await self._fault(page)
        if injected is not None:
            return injected
        if not self._authorized(request):
            self.unauthorized += 1
            return web.json_response({"error": "unauthorized"}, status=401)
        records = self._visible(request)
        size = self.page_size
        start = (page - 1) * size
        chunk = records[start : start + size]
        if kind == "page":
            return web.json_response({"data": chunk, "page": page})
        if kind == "offset":
            offset = int(request.query.get("offset", 0))
            limit = int(request.query.get("limit", size))
            return web.json_response({"data": records[offset : offset + limit]})
        if kind == "cursor":
            body: dict[str, Any] = {"data": chunk, "meta": {}}
            if start + size < len(records):
                body["meta"]["next_cursor"] = f"c{page + 1}"
            return web.json_response(body)
        if kind == "nexturl":
            more = start + size < len(records)
            following = f"nexturl?p={page + 1}" if more else None
            return web.json_response({"items": chunk, "next": following})
        if kind == "link":
            headers = {}
            if start + size < len(records):
                query = f"p={page + 1}"
                if "api_key" in request.query:  # some APIs echo the key into their links
                    query += f"&api_key={request.query['api_key']}"
                links = f'</items/link?{query}>; rel="next", </items/link?p=1>; rel="first"'
                headers["Link"] = links
            body_bytes = orjson.dumps(chunk)
            return web.Response(body=body_bytes, content_type="application/json", headers=headers)
        if kind == "single":
            return web.json_response({"status": "ok", "count": len(records)})
        return web.json_response({"error": "no such endpoint"}, status=404)

    def _page_number(self, kind: str, request: web.Request) -> int:
        if kind == "page":
            return int(request.query.get("page", 1))
        if kind == "offset":
            return int(request.query.get("offset", 0)) // self.page_size + 1
        if kind == "cursor":
            return int(request.query.get("cursor", "c1")[1:])
        return int(request.query.get("p", 1))

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/oauth/token", self.token)
        app.router.add_route("*", "/items/{kind}", self.handle)
        return app

    def requests_to(self, kind: str) -> list[Seen]:
        return [s for s in self.seen if s.path == f"/items/{kind}"]


async def serve(api: MockApi) -> web.AppRunner:
    runner = web.AppRunner(api.app(), access_log=None, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None and server.sockets  # type: ignore[attr-defined]
    port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
    api.url = f"http://127.0.0.1:{port}"
    return runner
