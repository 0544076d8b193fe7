"""API collection benchmark: our collector beside dlt 1.31's REST API source and a
bare requests.Session loop, on the same static pages served by Debian's nginx.

    .venv/bin/python bench/api.py [--pages 500] [--per-page 100] [--rounds 3]
                                  [--concurrency 8] [--rate 50] [--rate-pages 150]

dlt, the bare loop and "ours, next link" follow the `next` URL of each page to the end;
"ours, page xN ahead" asks /items?page=N (nginx maps it to the same files) with N
requests in flight. Ours writes its jsonl output and reports progress (to a counting
reporter, as the SDK would receive it). Best of --rounds, same run, as records/s and
ratios. Then requests_per_second --rate, sequential and fetching ahead: the achieved
rate from the bucket's grant times and from nginx's access log. Never asserts.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _api_runners import GrantClock, bare_requests, dlt_rest_api, ours  # noqa: E402
from _api_site import Nginx, free_port, generate_pages  # noqa: E402

Limited = tuple[str, dict[str, Any], list[float], list[float]]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--per-page", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--rate", type=float, default=50.0)
    parser.add_argument("--rate-pages", type=int, default=150)
    return parser.parse_args()


def run_rounds(args: argparse.Namespace, base: str, work: Path) -> dict[str, float]:
    """The four collectors, --rounds times; prints each run, returns the best rec/s."""
    expected = args.pages * args.per_page
    best: dict[str, float] = {}

    def record(name: str, records: int, seconds: float, note: str = "") -> None:
        rate = records / seconds
        if records != expected:
            note += f"  (got {records} records, expected {expected})"
        best[name] = max(best.get(name, 0.0), rate)
        print(f"  {name:22} {records:6d} records {seconds:6.3f}s {rate:9.0f} rec/s{note}")

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
    return best


def run_rate_limited(
    args: argparse.Namespace, base: str, work: Path, nginx: Nginx
) -> list[Limited]:
    """Ours under requests_per_second, sequential and fetching ahead: the result, the
    bucket's grant times and nginx's arrival times of each run."""
    limited: list[Limited] = []
    for concurrency in (1, args.concurrency):
        with GrantClock() as clock:
            result, _, _ = ours(
                base, work / f"out-limited-{concurrency}", endpoint="/limited",
                pagination={"type": "page", "concurrency": concurrency},
                max_records=args.rate_pages * args.per_page,
                rate_limit={"requests_per_second": args.rate},
            )  # fmt: skip
        arrivals = nginx.arrivals()[sum(len(x[3]) for x in limited) :]
        limited.append((f"page x{concurrency}", result, clock.grants, arrivals))
    return limited


def print_throughput(best: dict[str, float]) -> None:
    bare, dlt_rate = best["bare requests loop"], best["dlt rest_api"]
    print("records/s, best round:")
    for name, rate in best.items():
        print(f"  {name:22} {rate:9.0f}   {rate / dlt_rate:5.2f}x dlt   {rate / bare:6.1%} of bare")
    print("goal: >= 3x dlt and >= 75% of the bare loop")


def span_rate(times: list[float]) -> float:
    return (len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else 0.0


def busiest(times: list[float]) -> int:  # most requests in any closed 1 s window
    return max((sum(1 for t in times if s <= t <= s + 1.0) for s in times), default=0)


def print_rate_limit(args: argparse.Namespace, limited: list[Limited]) -> None:
    rate = args.rate
    print(
        f"rate limit {rate:g}/s, burst 1, {args.rate_pages} pages; achieved = (requests - 1) "
        "/ time from first to last request, as the bucket granted them and as nginx saw them"
    )
    for name, result, grants, arrivals in limited:
        gaps = [b - a for a, b in zip(grants, grants[1:], strict=False)]
        print(
            f"  {name:8} {span_rate(grants):6.2f}/s = {span_rate(grants) / rate:6.1%} "
            f"(nginx {span_rate(arrivals) / rate:6.1%}); min gap {min(gaps) * 1000:.3f} ms "
            f"(nominal {1000 / rate:.1f}); busiest 1 s: {busiest(grants)} (bucket allows "
            f"{1 + rate:g}); {result['rate_limited_seconds']:.2f}s rate_limited; "
            f"{result['requests'] / result['duration_seconds']:.2f}/s over the whole run"
        )
    print("goal: 95-100% of the limit, never above")


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="api-bench-") as tmp:
        work = Path(tmp)
        os.chmod(work, 0o755)  # nginx workers run as another user
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        size = generate_pages(work / "site", base, args.pages, args.per_page)
        nginx = Nginx(work / "site", work / "nginx", port)
        print(f"{args.pages} pages x {args.per_page} records ({size / 1024:.1f} KB each), "
              f"nginx on {base}, best of {args.rounds}")  # fmt: skip
        try:
            best = run_rounds(args, base, work)
            limited = run_rate_limited(args, base, work, nginx)
        finally:
            nginx.stop()
    print_throughput(best)
    print_rate_limit(args, limited)


if __name__ == "__main__":
    main()
