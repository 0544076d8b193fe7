"""A small shop site for the demo: product listing, categories and product pages
marked up with schema.org JSON-LD, a robots.txt, and a paginated JSON API
(`/api/v1/products?page=N&per_page=M[&since_id=K]`) that wants
`Authorization: Bearer $SAMPLE_API_TOKEN`.

    python scripts/sample_site.py serve --port 8088 [--bind 0.0.0.0]

It binds all interfaces by default so task containers reach it through
host.docker.internal.
"""

from __future__ import annotations

import argparse
import hmac
import html
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

CATEGORIES = {
    "kitchen": ["Espresso Maker", "Chef Knife", "Cast Iron Pan", "Tea Kettle"],
    "garden": ["Garden Hose", "Pruning Shears", "Watering Can", "Seed Starter Kit"],
    "office": ["Desk Lamp", "Notebook Set", "Ergonomic Chair", "Monitor Stand"],
}


def products() -> list[dict[str, object]]:
    items = []
    n = 0
    for category, names in CATEGORIES.items():
        for name in names:
            n += 1
            items.append(
                {
                    "id": n,
                    "name": name,
                    "category": category,
                    "price": round(9.5 + n * 7.25, 2),
                    "description": f"A dependable {name.lower()} for everyday {category} work.",
                    "in_stock": n % 4 != 0,
                }
            )
    return items


def product_jsonld(p: dict[str, object]) -> dict[str, object]:
    availability = "InStock" if p["in_stock"] else "OutOfStock"
    return {
        "@context": "https://schema.org",
        "@type": "Product",
        "name": p["name"],
        "description": p["description"],
        "category": p["category"],
        "sku": f"SKU-{p['id']:04d}",
        "offers": {
            "@type": "Offer",
            "price": str(p["price"]),
            "priceCurrency": "EUR",
            "availability": f"https://schema.org/{availability}",
        },
    }


def page(title: str, body: str, jsonld: list[dict[str, object]] | None = None) -> bytes:
    scripts = "".join(
        f'<script type="application/ld+json">{json.dumps(d)}</script>' for d in jsonld or []
    )
    return (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
        f"</title>{scripts}</head><body><h1>{html.escape(title)}</h1>{body}</body></html>"
    ).encode()


def render(path: str) -> tuple[int, str, bytes]:
    items = products()
    if path == "/robots.txt":
        return 200, "text/plain", b"User-agent: *\nDisallow: /admin/\n"
    if path in ("/", "/products"):
        links = "".join(
            f'<li class="product"><a href="/products/{p["id"]}">{html.escape(str(p["name"]))}'
            f'</a> <span class="price">{p["price"]}</span></li>'
            for p in items
        )
        return 200, "text/html", page("All products", f"<ul>{links}</ul>")
    if path == "/categories":
        links = "".join(f'<li><a href="/categories/{c}">{c}</a></li>' for c in CATEGORIES)
        return 200, "text/html", page("Categories", f"<ul>{links}</ul>")
    if path.startswith("/categories/"):
        category = path.rsplit("/", 1)[1]
        chosen = [p for p in items if p["category"] == category]
        if not chosen:
            return 404, "text/html", page("Not found", "")
        links = "".join(
            f'<li><a href="/products/{p["id"]}">{html.escape(str(p["name"]))}</a></li>'
            for p in chosen
        )
        return 200, "text/html", page(category.title(), f"<ul>{links}</ul>")
    if path.startswith("/products/"):
        try:
            pid = int(path.rsplit("/", 1)[1])
            p = next(p for p in items if p["id"] == pid)
        except (ValueError, StopIteration):
            return 404, "text/html", page("Not found", "")
        body = (
            f'<p class="description">{html.escape(str(p["description"]))}</p>'
            f'<p>Price: <span class="price">{p["price"]}</span> EUR</p>'
            f'<a href="/categories/{p["category"]}">More {p["category"]}</a>'
        )
        return 200, "text/html", page(str(p["name"]), body, [product_jsonld(p)])
    return 404, "text/html", page("Not found", "")


def api_products(query: dict[str, list[str]]) -> bytes:
    page = max(int(query.get("page", ["1"])[0]), 1)
    per_page = min(max(int(query.get("per_page", ["5"])[0]), 1), 100)
    since_id = int(query.get("since_id", ["0"])[0])
    items = [p for p in products() if int(str(p["id"])) > since_id]
    chunk = items[(page - 1) * per_page : page * per_page]
    return json.dumps({"page": page, "per_page": per_page, "total": len(items),
                       "data": chunk}).encode()


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        url = urlsplit(self.path)
        if url.path.rstrip("/") == "/api/v1/products":
            expected = f"Bearer {os.environ.get('SAMPLE_API_TOKEN', '')}"
            given = self.headers.get("Authorization", "")
            if not os.environ.get("SAMPLE_API_TOKEN") or not hmac.compare_digest(given, expected):
                self._send(401, "application/json", b'{"error": "bad or missing token"}')
                return
            self._send(200, "application/json", api_products(parse_qs(url.query)))
            return
        status, ctype, body = render(url.path.rstrip("/") or "/")
        self._send(status, ctype, body)

    def _send(self, status: int, ctype: str, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", f"{ctype}; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("action", choices=["serve"])
    parser.add_argument("--port", type=int, default=8088)
    parser.add_argument("--bind", default="0.0.0.0")
    args = parser.parse_args()
    ThreadingHTTPServer((args.bind, args.port), Handler).serve_forever()


if __name__ == "__main__":
    main()
