"""``python -m heartbeat_api --host 0.0.0.0 --port 8000 [--workers N]``."""

from __future__ import annotations

import argparse
import atexit
import os
import shutil
import sys
import tempfile

import uvicorn

from heartbeat_api.settings import MissingSettings, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m heartbeat_api", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port to bind (default 8000)")
    parser.add_argument(
        "--workers", type=int, default=1, help="worker processes (default 1; one per core)"
    )
    args = parser.parse_args(argv)
    try:
        settings = load_settings()  # fail here, once, with a clear message
    except MissingSettings as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    if args.workers > 1 and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Workers share their metrics through files in this directory.
        metrics_dir = tempfile.mkdtemp(prefix="heartbeat-api-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
        atexit.register(shutil.rmtree, metrics_dir, True)
    uvicorn.run(
        "heartbeat_api.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        # Live-view event streams would otherwise hold a shutdown for up to 120 s.
        timeout_graceful_shutdown=5,
        loop="uvloop",
        http="httptools",
        access_log=False,
        log_level=settings.log_level.lower(),
        log_config=None,
        lifespan="on",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
