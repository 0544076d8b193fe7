"""API collection benchmark: our collector beside dlt 1.31's REST API source and a
bare requests.Session loop, on the same static pages served by Debian's nginx.

    .venv/bin/python bench/api.py [--pages 500] [--per-page 100] [--rounds 3]
                                  [--concurrency 4] [--rate 50] [--rate-pages 150]

Every contender follows the `next` link of each page to the end; ours also runs with
page pagination fetching ahead. Best of --rounds for each, same run, printed as
records/s and ratios; then the achieved rate under `requests_per_second`. Never asserts.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _api_runners import bare_requests, dlt_rest_api, ours  # noqa: E402
from _api_site import Nginx, free_port, generate_pages  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--per-page", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--rate-pages", type=int, default=150)
    args = parser.parse_args()
    expected = args.pages * args.per_page

    with tempfile.TemporaryDirectory(prefix="api-bench-") as tmp:
        work = Path(tmp)
        os.chmod(work, 0o755)  # nginx workers run as another user
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        size = generate_pages(work / "site", base, args.pages, args.per_page)
        nginx = Nginx(work / "site", work / "nginx", port)
        print(f"{args.pages} pages x {args.per_page} records ({size / 1024:.1f} KB each), "
              f"nginx on {base}, best of {args.rounds}")  # fmt: skip
        best: dict[str, float] = {}

        def record(name: str, records: int, seconds: float, note: str = "") -> None:
            rate = records / seconds
            if records != expected:
                note += f"  (got {records} records, expected {expected})"
            best[name] = max(best.get(name, 0.0), rate)
            print(f"  {name:22} {records:6d} records {seconds:6.3f}s {rate:9.0f} rec/s{note}")

        try:
            for round_number in range(args.rounds):
                record("bare requests loop", *bare_requests(f"{base}/pages/1.json"))
                record("dlt rest_api", *dlt_rest_api(base, "pages/1.json"))
                out = work / f"out-{round_number}"
                result, seconds, reports = ours(
                    base, out / "link", endpoint="/pages/1.json",
                    pagination={"type": "cursor", "cursor_path": "$.next", "cursor_is_url": True},
                )  # fmt: skip
                record("ours, next link", result["records"], seconds, f"  {reports} reports")
                result, seconds, reports = ours(
                    base, out / "page", endpoint="/items",
                    pagination={"type": "page", "concurrency": args.concurrency},
                )  # fmt: skip
                name = f"ours, page x{args.concurrency} ahead"
                record(name, result["records"], seconds, f"  {reports} reports")

            result, seconds, reports = ours(
                base, work / "out-limited", endpoint="/limited",
                pagination="page", max_records=args.rate_pages * args.per_page,
                rate_limit={"requests_per_second": args.rate},
            )  # fmt: skip
            arrivals = nginx.arrivals()
        finally:
            nginx.stop()

    bare, dlt_rate = best["bare requests loop"], best["dlt rest_api"]
    print("records/s, best round:")
    for name, rate in best.items():
        print(f"  {name:22} {rate:9.0f}   {rate / dlt_rate:5.2f}x dlt   {rate / bare:6.1%} of bare")
    print("goal: >= 3x dlt and >= 75% of the bare loop")

    requests_made = result["requests"]
    achieved = requests_made / result["duration_seconds"]
    steady = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0]) if len(arrivals) > 1 else 0.0
    busiest = max(
        sum(1 for t in arrivals if start <= t < start + 1.0) for start in arrivals
    ) if arrivals else 0  # fmt: skip
    print(f"rate limit {args.rate:g}/s (burst 1), {requests_made} requests, "
          f"{reports} progress reports, stages seen rate_limited: "
          f"{result['rate_limited_seconds']:.2f}s waiting")  # fmt: skip
    print(f"  achieved (requests / run time):          {achieved:6.2f}/s = "
          f"{achieved / args.rate:6.1%}")  # fmt: skip
    print(f"  steady (server arrivals, first to last): {steady:6.2f}/s = {steady / args.rate:6.1%}")
    print(f"  busiest 1 s window at the server:        {busiest} requests (limit {args.rate:g})")
    print("goal: 95-100% of the limit, never above")


if __name__ == "__main__":
    main()
