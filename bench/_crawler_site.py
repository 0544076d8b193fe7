"""The benchmark's shop site: static pages generated into a directory, served by
Debian's nginx on a free loopback port."""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
import subprocess
import time
from pathlib import Path

FIELDS = ["product_name", "price", "description", "category", "availability"]
WORDS = (
    "sturdy light steel oak brass handmade compact classic modern durable portable quiet "
    "precise warm bright soft strong elegant simple reliable efficient"
).split()


def generate_site(root: Path, pages: int, page_bytes: int, links: int, seed: int = 7) -> None:
    """pages HTML pages of about page_bytes, each a schema.org Product in JSON-LD
    linking to `links` others (one of them the next page, so all are reachable)."""
    rng = random.Random(seed)
    (root / "p").mkdir(parents=True, exist_ok=True)
    (root / "robots.txt").write_text("User-agent: *\nDisallow: /admin/\n")
    for number in range(pages):
        product = {
            "@context": "https://schema.org",
            "@type": "Product",
            "name": f"Product {number}",
            "sku": f"SKU-{number:05d}",
            "description": " ".join(rng.choices(WORDS, k=30)),
            "category": rng.choice(["Tools", "Garden", "Kitchen", "Toys"]),
            "offers": {
                "@type": "Offer",
                "price": f"{rng.uniform(1, 500):.2f}",
                "priceCurrency": "EUR",
                "availability": rng.choice(
                    ["https://schema.org/InStock", "https://schema.org/OutOfStock"]
                ),
            },
        }
        targets = [(number + 1) % pages, *rng.sample(range(pages), links - 1)]
        nav = "".join(f'<li><a href="/p/{t}.html">Product {t}</a></li>' for t in targets)
        head = (
            f"<!doctype html><html><head><meta charset='utf-8'><title>{product['name']}</title>"
            f'<script type="application/ld+json">{json.dumps(product)}</script></head><body>'
            f'<header><h1 class="title">{product["name"]}</h1></header>'
            f'<ul class="related">{nav}</ul>'
        )
        filler = []
        size = len(head)
        while size < page_bytes - 40:
            paragraph = "<p>" + " ".join(rng.choices(WORDS, k=40)) + "</p>"
            filler.append(paragraph)
            size += len(paragraph)
        html = head + "".join(filler) + "</body></html>"
        (root / "p" / f"{number}.html").write_text(html, encoding="utf-8")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def ensure_nginx() -> str:
    found = shutil.which("nginx")
    if found or os.path.exists("/usr/sbin/nginx"):
        return found or "/usr/sbin/nginx"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, capture_output=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "nginx-light"],
        check=True, env=env, capture_output=True,
    )  # fmt: skip
    return "/usr/sbin/nginx"


class Nginx:
    """Our own nginx (own config, pid and logs in `workdir`) serving `root`."""

    def __init__(self, root: Path, workdir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        workdir.mkdir(parents=True, exist_ok=True)
        conf = workdir / "nginx.conf"
        conf.write_text(
            f"""
worker_processes 1;
daemon off;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    types {{ text/html html; text/plain txt; }}
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    keepalive_requests 1000000;
    client_body_temp_path {workdir}/body;
    proxy_temp_path {workdir}/proxy;
    fastcgi_temp_path {workdir}/fastcgi;
    uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
    server {{
        listen 127.0.0.1:{self.port};
        root {root};
    }}
}}
"""
        )
        self.process = subprocess.Popen(
            [ensure_nginx(), "-c", str(conf), "-p", str(workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"nginx did not start; see {workdir}/error.log") from None
                time.sleep(0.05)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
