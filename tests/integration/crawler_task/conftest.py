"""A local shop site for the crawler, served by aiohttp.web in its own thread on a
free 127.0.0.1 port, with a log of every request it answered."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from aiohttp import web

PRODUCTS = [
    {"id": i, "name": f"Widget {i}", "price": f"{10 + i}.99", "category": "Tools"}
    for i in range(1, 7)
]
ROBOTS = "User-agent: *\nDisallow: /private/\n"


def _page(title: str, body: str, head: str = "") -> str:
    return (
        f"<!doctype html><html><head><title>{title}</title>{head}</head><body>{body}</body></html>"
    )


def _jsonld_detail(p: dict[str, Any]) -> str:
    data = {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": p["name"],
        "description": f"The {p['name']}, sturdy.",
        "category": p["category"],
        "sku": f"W-{p['id']}",
        "offers": {
            "@type": "Offer",
            "price": p["price"],
            "priceCurrency": "EUR",
            "availability": "https://schema.org/InStock",
        },
    }
    breadcrumbs = {
        "@context": "https://schema.org",
        "@type": "BreadcrumbList",
        "itemListElement": [],
    }
    head = (
        f'<script type="application/ld+json">{json.dumps(breadcrumbs)}</script>'
        f'<script type="application/ld+json">{json.dumps(data)}</script>'
    )
    body = (
        f'<h1 class="title">{p["name"]}</h1><span class="price">€{p["price"]}</span>'
        '<a href="/products">back</a>'
    )
    return _page(p["name"], body, head)


def _microdata_detail(p: dict[str, Any]) -> str:
    body = (
        '<div itemscope itemtype="https://schema.org/Product">'
        f'<h1 class="title" itemprop="name">{p["name"]}</h1>'
        f'<p itemprop="description">The {p["name"]}, sturdy.</p>'
        f'<meta itemprop="category" content="{p["category"]}">'
        '<div itemprop="offers" itemscope itemtype="https://schema.org/Offer">'
        f'<span class="price">€<span itemprop="price" content="{p["price"]}">'
        f"{p['price']}</span></span>"
        '<link itemprop="availability" href="https://schema.org/OutOfStock">out of stock'
        "</div></div>"
    )
    return _page(p["name"], body)


def _plain_detail(p: dict[str, Any]) -> str:
    body = (
        f'<h1 class="title">{p["name"]}</h1><span class="price">Price: €{p["price"]}</span>'
        f'<ul class="tags"><li>new</li><li>sale</li></ul><a href="/products/{p["id"]}#top">self</a>'
    )
    return _page(p["name"], body)


LISTING = _page(
    "Products",
    "".join(
        f'<div class="product"><a class="detail" href="/products/{p["id"]}">{p["name"]}</a>'
        f'<span class="price">{p["price"]}</span></div>'
        for p in PRODUCTS
    )
    + '<a href="/private/secret">staff</a><a href="/loop/a">loop</a>'
    '<a href="/redirect/3">moved</a><a href="/catalog.pdf">pdf</a>'
    '<a href="http://elsewhere.invalid/x">away</a><a href="mailto:shop@example.com">mail</a>'
    '<a href="/products?page=1#x">again</a>',
)
RENDERED = _page(
    "Rendered",
    '<div id="list"></div><script>'
    "fetch('/api/products.json').then(r => r.json()).then(d => {"
    "  for (const p of d.products) {"
    "    const el = document.createElement('div'); el.className = 'product';"
    "    el.innerHTML = '<h2>' + p.name + '</h2><span class=\"price\">' + p.price + '</span>';"
    "    document.getElementById('list').appendChild(el);"
    "  }"
    "});</script>",
)


@dataclass
class Site:
    """The running site: its base URL, request log and knobs."""

    base: str = ""
    log: list[tuple[float, str, str]] = field(default_factory=list)
    hits: dict[str, int] = field(default_factory=dict)
    slow_seconds: float = 2.0
    served: threading.Event = field(default_factory=threading.Event)
    serve_limit: int = 10**9
    closing: bool = False
    robots_status: int = 200
    robots_text: str = ROBOTS

    def url(self, path: str) -> str:
        return self.base + path

    def paths(self) -> list[str]:
        return [path for _, path, _ in self.log]


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Routes = list[tuple[str, Handler]]


def _html(text: str) -> web.Response:
    return web.Response(text=text, content_type="text/html", charset="utf-8")


def _recorder(site: Site) -> Any:
    """Middleware logging every request into the site before answering it."""

    async def record(request: web.Request, handler: Any) -> web.StreamResponse:
        site.log.append((time.monotonic(), request.path_qs, request.headers.get("User-Agent", "")))
        site.hits[request.path] = site.hits.get(request.path, 0) + 1
        if len(site.log) >= site.serve_limit:
            site.served.set()
        response: web.StreamResponse = await handler(request)
        return response

    return web.middleware(record)


def _shop_routes(site: Site) -> Routes:
    """robots.txt, the home page, the listing, the product pages and their JSON."""

    async def robots(_: web.Request) -> web.Response:
        return web.Response(
            status=site.robots_status, text=site.robots_text, content_type="text/plain"
        )

    async def home(_: web.Request) -> web.Response:
        body = '<a href="/products">products</a><a href="/categories">cats</a>'
        return _html(_page("Shop", body))

    async def listing(_: web.Request) -> web.Response:
        return _html(LISTING)

    async def detail(request: web.Request) -> web.Response:
        number = int(request.match_info["id"])
        if not 1 <= number <= len(PRODUCTS):
            raise web.HTTPNotFound()
        product = PRODUCTS[number - 1]
        render = (_jsonld_detail, _microdata_detail, _plain_detail)[(number - 1) % 3]
        return _html(render(product))

    async def categories(_: web.Request) -> web.Response:
        body = '<a href="/products">all</a><a href="/flaky">flaky</a><a href="/busy">busy</a>'
        return _html(_page("Categories", body))

    async def products_json(_: web.Request) -> web.Response:
        return web.json_response({"products": PRODUCTS, "total": len(PRODUCTS)})

    return [
        ("/robots.txt", robots),
        ("/", home),
        ("/products", listing),
        ("/products/{id}", detail),
        ("/categories", categories),
        ("/api/products.json", products_json),
    ]


def _trouble_routes(site: Site) -> Routes:
    """Pages that fail once, ask to wait, redirect in a chain or answer slowly."""

    async def flaky(request: web.Request) -> web.Response:
        if site.hits[request.path] == 1:
            raise web.HTTPInternalServerError()
        return _html(_page("Flaky", '<h1 class="title">Recovered</h1>'))

    async def busy(request: web.Request) -> web.Response:
        if site.hits[request.path] == 1:
            raise web.HTTPTooManyRequests(headers={"Retry-After": "1"})
        return _html(_page("Busy", '<h1 class="title">Served after waiting</h1>'))

    async def redirect(request: web.Request) -> web.Response:
        left = int(request.match_info["n"])
        raise web.HTTPFound(f"/redirect/{left - 1}" if left > 1 else "/landing")

    async def landing(_: web.Request) -> web.Response:
        return _html(_page("Landing", '<h1 class="title">Landed</h1>'))

    async def slow(_: web.Request) -> web.Response:
        deadline = time.monotonic() + site.slow_seconds
        while time.monotonic() < deadline and not site.closing:  # ends early at teardown
            await asyncio.sleep(0.02)
        return _html(_page("Slow", '<h1 class="title">Slow</h1>'))

    return [
        ("/flaky", flaky),
        ("/busy", busy),
        ("/redirect/{n}", redirect),
        ("/landing", landing),
        ("/slow", slow),
    ]


def _edge_routes() -> Routes:
    """A PDF, a huge page, link loops and an endless tree, a disallowed page, a JS page."""

    async def pdf(_: web.Request) -> web.Response:
        return web.Response(body=b"%PDF-1.4 fake", content_type="application/pdf")

    async def big(_: web.Request) -> web.Response:
        return _html(_page("Big", "<p>" + "x" * 200_000 + "</p>"))

    async def loop(request: web.Request) -> web.Response:
        other = "b" if request.match_info["name"] == "a" else "a"
        body = f'<a href="/loop/{other}">next</a><a href="./{other}?">same</a>'
        return _html(_page("Loop", body))

    async def endless(request: web.Request) -> web.Response:
        number = int(request.match_info["n"])
        links = "".join(f'<a href="/endless/{number * 3 + k}">n</a>' for k in range(1, 4))
        return _html(_page("Endless", f'<h1 class="title">Page {number}</h1>{links}'))

    async def private(_: web.Request) -> web.Response:
        return _html(_page("Secret", '<h1 class="title">Secret</h1>'))

    async def rendered(_: web.Request) -> web.Response:
        return _html(RENDERED)

    return [
        ("/catalog.pdf", pdf),
        ("/big", big),
        ("/loop/{name}", loop),
        ("/endless/{n}", endless),
        ("/private/{rest}", private),
        ("/rendered", rendered),
    ]


def _app(site: Site) -> web.Application:
    app = web.Application(middlewares=[_recorder(site)])
    for path, handler in [*_shop_routes(site), *_trouble_routes(site), *_edge_routes()]:
        app.router.add_get(path, handler)
    return app


@pytest.fixture
def site() -> Iterator[Site]:
    """The shop site, started fresh for each test."""
    state = Site()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    runner = web.AppRunner(_app(state), access_log=None)

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        tcp = web.TCPSite(runner, "127.0.0.1", 0)
        loop.run_until_complete(tcp.start())
        port = runner.addresses[0][1]
        state.base = f"http://127.0.0.1:{port}"
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=serve, name="shop-site", daemon=True)
    thread.start()
    assert ready.wait(10), "the test site did not start"
    try:
        yield state
    finally:
        state.closing = True
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


@pytest.fixture
def make_config(tmp_path: Any) -> Any:
    """make_config(fmt, **crawler_keys): the guide's example config with its URLs
    and the given crawler keys changed, writing to tmp_path/out."""
    return lambda fmt="jsonl", **crawler: guide_config(tmp_path / "out", fmt, **crawler)


def guide_config(output_dir: Any, fmt: str = "jsonl", **crawler: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "task_name": "电商网站爬虫",
        "task_type": "crawler",
        "base_url": "https://example-ecommerce.com",
        "docker_image": "data-collection-crawler:latest",
        "crawler_config": {
            "target_urls": [],
            "max_pages": 100,
            "delay": 0,
            "user_agent": "Mozilla/5.0 (compatible; DataCollector/1.0)",
            "output_format": fmt,
            "data_fields": ["product_name", "price", "description", "category", "availability"],
        },
        "storage_config": {"output_path": str(output_dir), "filename_prefix": "shop"},
    }
    config["crawler_config"].update(crawler)
    return config
