"""Crawler benchmark: our crawler against Scrapy 2.19 on the same local shop site.

    .venv/bin/python bench/crawler.py [--pages 5000] [--page-kb 20] [--concurrency 16] [--rounds 1]

Generates the site (JSON-LD products, ~5 links a page) into a temp dir, serves it
with our own Debian nginx on a free loopback port, then crawls it with delay 0 and
the same concurrency, each crawler in its own subprocess (same fields, robots.txt
obeyed by both). Prints pages/s and peak RSS of each and the ratios; never asserts.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _crawler_site import Nginx, generate_site  # noqa: E402

CHILDREN = (("ours", "_crawler_ours.py"), ("scrapy", "_crawler_scrapy.py"))


def run_child(script: str, args: list[str]) -> dict[str, Any]:
    """Run a benchmark child; its JSON line plus wall time and peak RSS (MB)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, str(HERE / script), *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=HERE,
    )  # fmt: skip
    assert process.stdout is not None and process.stderr is not None
    out = process.stdout.read()
    err = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    wall = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"{script} failed ({process.returncode}):\n{err.decode()[-3000:]}")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    result["wall"] = wall
    result["rss_mb"] = usage.ru_maxrss / 1024  # Linux reports KiB
    result["pages_per_second"] = result["pages"] / result["seconds"]
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=5000)
    parser.add_argument("--page-kb", type=int, default=20)
    parser.add_argument("--links", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=1, help="alternate the crawlers N times")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="crawler-bench-") as tmp:
        work = Path(tmp)
        os.chmod(work, 0o755)  # nginx workers run as another user
        site = work / "site"
        t0 = time.perf_counter()
        generate_site(site, args.pages, args.page_kb * 1024, args.links)
        size = sum(f.stat().st_size for f in (site / "p").iterdir()) / len(os.listdir(site / "p"))
        print(f"site: {args.pages} pages, {size / 1024:.1f} KB average, {args.links} links each "
              f"(generated in {time.perf_counter() - t0:.1f}s)")  # fmt: skip
        nginx = Nginx(site, work / "nginx")
        try:
            start = f"{nginx.url}/p/0.html"
            print(f"nginx on {nginx.url}; crawling with delay 0, concurrency {args.concurrency}")
            results: dict[str, list[dict[str, Any]]] = {"ours": [], "scrapy": []}
            for round_number in range(args.rounds):
                for name, script in CHILDREN:
                    out = work / f"out-{name}-{round_number}"
                    out.mkdir()
                    child_args = [start, str(args.pages), str(args.concurrency), str(out)]
                    result = run_child(script, child_args)
                    results[name].append(result)
                    print(f"  {name:6} pages={result['pages']:5d} records={result['records']:5d} "
                          f"crawl={result['seconds']:6.2f}s wall={result['wall']:6.2f}s "
                          f"{result['pages_per_second']:7.1f} pages/s  "
                          f"peak RSS {result['rss_mb']:6.1f} MB")  # fmt: skip
        finally:
            nginx.stop()

    def best(name: str, key: str, pick: Any) -> float:
        return float(pick(r[key] for r in results[name]))

    ours_pps = best("ours", "pages_per_second", max)
    scrapy_pps = best("scrapy", "pages_per_second", max)
    ours_rss, scrapy_rss = best("ours", "rss_mb", min), best("scrapy", "rss_mb", min)
    print(f"ours:   {ours_pps:7.1f} pages/s, peak RSS {ours_rss:6.1f} MB")
    print(f"scrapy: {scrapy_pps:7.1f} pages/s, peak RSS {scrapy_rss:6.1f} MB")
    print(f"speed ratio ours/scrapy: {ours_pps / scrapy_pps:.2f}x (goal >= 2x); "
          f"RSS ratio ours/scrapy: {ours_rss / scrapy_rss:.2f} (goal <= 1)")  # fmt: skip


if __name__ == "__main__":
    main()
