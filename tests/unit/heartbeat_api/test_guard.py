"""The body cap middleware, against a stand-in ASGI app."""

from __future__ import annotations

from typing import Any

import httpx
from heartbeat_api.guard import RequestGuard


async def echo_length(scope: dict[str, Any], receive: Any, send: Any) -> None:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    content_type = dict(scope["headers"]).get(b"content-type", b"")
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"x-content-type", content_type)],
        }
    )
    await send({"type": "http.response.body", "body": str(len(body)).encode()})


def client(limit: int) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=RequestGuard(echo_length, max_body_bytes=limit))
    return httpx.AsyncClient(transport=transport, base_url="http://t")


async def test_body_within_the_limit_reaches_the_app_whole() -> None:
    async with client(1024) as http:
        answer = await http.post("/", content=b"a" * 1024)
    assert answer.status_code == 200 and answer.text == "1024"
    assert answer.headers["x-content-type"] == "application/json"


async def test_declared_or_streamed_oversize_is_413() -> None:
    async with client(1024) as http:
        declared = await http.post("/", content=b"a" * 1025)

        async def stream() -> Any:
            for _ in range(5):
                yield b"b" * 300

        streamed = await http.post("/", content=stream())
    assert declared.status_code == 413 and streamed.status_code == 413
    assert "1024" in declared.json()["detail"]


async def test_get_passes_through() -> None:
    async with client(10) as http:
        assert (await http.get("/")).text == "0"
