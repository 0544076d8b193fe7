"""The API benchmark's pages: static JSON files (100 records each, naming the next
page), served by our own Debian nginx on a free loopback port. `/items?page=N` maps
to the same files, and past the last page to an empty one, for page pagination."""

from __future__ import annotations

import json
import os
import random
import shutil
import socket
import subprocess
import time
from pathlib import Path

WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima".split()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def generate_pages(root: Path, base_url: str, pages: int, per_page: int, seed: int = 11) -> int:
    """Writes pages/1.json .. pages/N.json and empty.json; returns the average page size."""
    rng = random.Random(seed)
    (root / "pages").mkdir(parents=True, exist_ok=True)
    total = 0
    for number in range(1, pages + 1):
        records = [
            {
                "id": (number - 1) * per_page + i + 1,
                "name": " ".join(rng.choices(WORDS, k=3)),
                "email": f"user{number}_{i}@example.com",
                "amount": round(rng.uniform(1, 1000), 2),
                "active": rng.random() < 0.7,
                "tags": rng.sample(WORDS, 2),
                "updated_at": f"2024-{1 + number % 12:02d}-{1 + i % 28:02d}T12:00:00Z",
            }
            for i in range(per_page)
        ]
        following = f"{base_url}/pages/{number + 1}.json" if number < pages else None
        text = json.dumps({"data": records, "next": following})
        (root / "pages" / f"{number}.json").write_text(text)
        total += len(text)
    (root / "empty.json").write_text(json.dumps({"data": [], "next": None}))
    return total // pages


def ensure_nginx() -> str:
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else ""
    )
    if found:
        return found
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env, capture_output=True)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "nginx-light"],
        check=True, env=env, capture_output=True,
    )  # fmt: skip
    return "/usr/sbin/nginx"


class Nginx:
    """Our own nginx (config, pid and logs in `workdir`) serving `root`; requests to
    /items are logged with their arrival time in ms, to check the rate limit."""

    def __init__(self, root: Path, workdir: Path, port: int) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.access_log = workdir / "items.log"
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
    types {{ application/json json; }}
    default_type application/json;
    log_format arrival '$msec';
    access_log off;
    sendfile on;
    keepalive_requests 1000000;
    client_body_temp_path {workdir}/body;
    proxy_temp_path {workdir}/proxy;
    fastcgi_temp_path {workdir}/fastcgi;
    uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {root};
        location /pages/ {{ }}
        location = /items {{ try_files /pages/$arg_page.json /empty.json; }}
        location = /limited {{
            access_log {self.access_log} arrival;
            try_files /pages/$arg_page.json /empty.json;
        }}
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
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"nginx did not start; see {workdir}/error.log") from None
                time.sleep(0.05)

    def arrivals(self) -> list[float]:
        if not self.access_log.exists():
            return []
        return [float(line) for line in self.access_log.read_text().split()]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)
