"""Sustained heartbeats/s and latency of the real heartbeat API on the real Redis.

Run: ``.venv/bin/python bench/heartbeat_api.py [--workers 2] [--duration 15]
[--connections 64] [--profile]``. Prints figures; never asserts.

What it does: starts ``python -m heartbeat_api --workers N`` on a free port against
Redis 127.0.0.1:6379 (db 11, flushed), registers 256 executions, and drives
``POST`` to the heartbeat path with Debian's ``wrk`` (C, installed with apt if
missing); a Lua script rotates the execution id and its bearer token per request, with
a realistic progress object. Then ``redis-benchmark -t hset`` on the same Redis gives the
raw write rate, and the ratio is printed. ``--profile`` runs one worker under
pyinstrument during a load run and prints where the time goes.

Figures on this machine (2 cores shared by the API, wrk and Redis; other sessions'
Airflow and pytest runs were loading the box too, load average 3-8, so rates vary run to
run by 2-3x; the CPU-per-heartbeat figures are the stable ones):

- start, FastAPI body model + plain ``def`` dependencies, 1 worker: ~1,300 heartbeats/s,
  p99 ~90 ms. Profile: 40% of the time in the thread pool that FastAPI runs sync
  dependencies in.
- ``async def`` dependencies: ~2,700/s; heartbeat route parsing its own body: ~3,300/s;
  concurrent heartbeat scripts pipelined (``store/_batch.py``): ~4,200/s, 1 worker,
  ~220 us of API CPU per heartbeat.
- heartbeat answered in the pure-ASGI guard (``guard.py``: no Starlette routing, no
  FastAPI request/dependency machinery) + ``gc.freeze()`` after startup: ~107 us of API
  CPU per heartbeat, 1 worker 4,000-4,900/s under the load above.
- shipped (2 workers, ``wrk -t2 -c64``), best quiet-moment run: 11,165 heartbeats/s,
  p50 5.5 ms, p99 12.4 ms, 0 errors; redis-benchmark HSET 93,800/s, ratio 1 : 8.4.
  Busy-box runs: 3,500-4,000/s, p99 60-260 ms. CPU per heartbeat: API ~135 us,
  Redis ~27 us (one EVALSHA: HMGET, HSET, 2 XADD, 3 EXPIRE, ZADD), wrk ~23 us, i.e.
  ~10,800 heartbeats/s if the two cores were ours.

Where the API's ~110-135 us go (cProfile/pyinstrument of one worker): uvicorn's
httptools protocol and the socket writes ~35%, redis-py packing the EVALSHA, the
pipeline and parsing replies ~30%, pydantic validation + HMAC check ~10%, asyncio
tasks/futures ~10%, Prometheus histogram + counter ~5%.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from heartbeat_contract import PROTOCOL_VERSION, states
from heartbeat_contract import http as paths
from redis.asyncio import Redis

REDIS_URL = "redis://127.0.0.1:6379/11"
SECRET = "bench-signing-secret-0123456789"
ADMIN_TOKEN = "bench-admin-token-0123456789"
EXECUTIONS = 256
BEAT_PATH = paths.HEARTBEAT


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk not found; installing Debian's wrk with apt-get ...", flush=True)
    subprocess.run(["apt-get", "install", "-y", "wrk"], check=False, capture_output=True)
    found = shutil.which("wrk")
    if not found:
        subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True)
        subprocess.run(["apt-get", "install", "-y", "wrk"], check=True, capture_output=True)
        found = shutil.which("wrk")
    assert found, "wrk could not be installed"
    return found


def start_api(port: int, workers: int, profile_to: Path | None) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HEARTBEAT_")}
    env.update(
        HEARTBEAT_REDIS_URL=REDIS_URL,
        HEARTBEAT_SECRET=SECRET,
        HEARTBEAT_ADMIN_TOKEN=ADMIN_TOKEN,
        HEARTBEAT_LOG_LEVEL="WARNING",
    )
    server = [
        "-m",
        "heartbeat_api",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    if profile_to is not None:
        command = [
            sys.executable,
            "-m",
            "pyinstrument",
            "-i",
            "0.0005",
            "-r",
            "text",
            "-o",
            str(profile_to),
            *server,
        ]
    else:
        command = [sys.executable, *server]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_healthy(base_url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit("the API exited during startup")
        try:
            if httpx.get(f"{base_url}/healthz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit("the API did not become healthy in 60 s")


async def register_all(base_url: str) -> list[tuple[str, str]]:
    redis = Redis.from_url(REDIS_URL)
    await redis.flushdb()
    await redis.aclose()
    pairs = []
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        for n in range(EXECUTIONS):
            answer = await http.post(
                paths.EXECUTIONS,
                json={"execution_id": f"bench-{n:04d}", "dag_id": "bench"},
                headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
            )
            answer.raise_for_status()
            body = answer.json()
            pairs.append((body["execution_id"], body["token"]))
    return pairs


def wrk_script(pairs: list[tuple[str, str]], directory: Path) -> Path:
    entries = ",\n".join(f'  {{"{eid}", "{token}"}}' for eid, token in pairs)
    script = directory / "heartbeat.lua"
    script.write_text(
        f"local executions = {{\n{entries}\n}}\n"
        + """
local counter = 0
request = function()
  counter = counter + 1
  local e = executions[(counter % #executions) + 1]
  local body = '{"execution_id":"' .. e[1] .. '","container_name":"task-' .. e[1]
    .. '","status":"STATUS","progress":{"stage":"fetching","pages_done":'
    .. counter .. ',"items":' .. (counter * 7) .. '},"timestamp":1700000000,'
    .. '"protocol_version":VERSION}'
  return wrk.format("POST", nil, {["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. e[2]}, body)
end
""".replace("STATUS", states.RUNNING).replace("VERSION", str(PROTOCOL_VERSION))
    )
    return script


def to_ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def run_wrk(wrk: str, url: str, script: Path, connections: int, duration: int) -> dict[str, float]:
    output = subprocess.run(
        [wrk, "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    figures = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))}  # type: ignore[union-attr]
    for percent in ("50", "90", "99"):
        match = re.search(rf"^\s+{percent}%\s+(\S+)", output, re.MULTILINE)
        figures[f"p{percent}"] = to_ms(match.group(1)) if match else float("nan")
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    figures["non2xx"] = float(errors.group(1)) if errors else 0.0
    socket_errors = re.search(r"Socket errors: (.*)", output)
    figures["socket_errors"] = 0.0 if socket_errors is None else 1.0
    return figures


def process_tree(root: int) -> list[int]:
    pids, queue = [], [root]
    while queue:
        pid = queue.pop()
        pids.append(pid)
        for task in Path(f"/proc/{pid}/task").glob("*/children"):
            queue.extend(int(child) for child in task.read_text().split())
    return pids


def cpu_seconds(pids: list[int]) -> float:
    """User+system CPU of these processes, from /proc (robust to other load on the box)."""
    ticks = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def redis_pid() -> int:
    info = subprocess.run(
        ["redis-cli", "-h", "127.0.0.1", "info", "server"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return int(re.search(r"process_id:(\d+)", info).group(1))  # type: ignore[union-attr]


def redis_hset_rate() -> float:
    output = subprocess.run(
        [
            "redis-benchmark",
            "-h",
            "127.0.0.1",
            "-p",
            "6379",
            "-n",
            "200000",
            "-c",
            "50",
            "-t",
            "hset",
            "-q",
            "--csv",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # --csv: "test","rps",...   "HSET","78000.00",...
    for line in output.splitlines():
        if line.startswith('"HSET"'):
            return float(line.split(",")[1].strip('"'))
    raise SystemExit(f"unexpected redis-benchmark output: {output!r}")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=int, default=15)
    parser.add_argument("--connections", type=int, nargs="+", default=[64, 16])
    parser.add_argument("--profile", action="store_true", help="profile one worker instead")
    return parser.parse_args()


def load_runs(
    args: argparse.Namespace,
    wrk: str,
    base_url: str,
    api: subprocess.Popen[bytes],
    work: Path,
    workers: int,
) -> list[dict[str, float]]:
    """Registers the executions, warms up, then one wrk run per --connections; prints
    each run's figures and CPU per heartbeat, returns wrk's figures."""
    pairs = asyncio.run(register_all(base_url))
    script = wrk_script(pairs, work)
    run_wrk(wrk, base_url + BEAT_PATH, script, 32, 3)  # warm-up
    print(
        f"heartbeat API: {workers} worker(s), {EXECUTIONS} executions, wrk -t2, "
        f"{args.duration}s per run, loopback, Redis 127.0.0.1:6379"
    )
    results = []
    api_pids, redis_pids = process_tree(api.pid), [redis_pid()]
    cores = len(os.sched_getaffinity(0))
    for connections in args.connections:
        api_cpu, redis_cpu = cpu_seconds(api_pids), cpu_seconds(redis_pids)
        wrk_cpu = children_cpu_seconds()
        figures = run_wrk(wrk, base_url + BEAT_PATH, script, connections, args.duration)
        beats = figures["rps"] * args.duration
        costs = [
            (cpu_seconds(api_pids) - api_cpu) / beats * 1e6,
            (cpu_seconds(redis_pids) - redis_cpu) / beats * 1e6,
            (children_cpu_seconds() - wrk_cpu) / beats * 1e6,
        ]
        results.append(figures)
        print_run(connections, figures, costs, cores)
    return results


def print_run(connections: int, figures: dict[str, float], costs: list[float], cores: int) -> None:
    print(
        f"  -c{connections:<3} {figures['rps']:>8.0f} heartbeats/s   "
        f"p50 {figures['p50']:6.2f} ms   p90 {figures['p90']:6.2f} ms   "
        f"p99 {figures['p99']:6.2f} ms   non-2xx {figures['non2xx']:.0f}"
    )
    print(
        f"        CPU per heartbeat: API {costs[0]:.0f} us, Redis {costs[1]:.0f} us, "
        f"wrk {costs[2]:.0f} us; {cores} cores to ourselves would carry "
        f"~{cores * 1e6 / sum(costs):.0f}/s"
    )


def stop_api(api: subprocess.Popen[bytes], profile: bool) -> None:
    api.send_signal(signal.SIGINT if profile else signal.SIGTERM)
    try:
        api.wait(timeout=60)
    except subprocess.TimeoutExpired:
        api.kill()


def print_ratio(results: list[dict[str, float]]) -> None:
    hset = redis_hset_rate()
    best = max(r["rps"] for r in results)
    print(f"redis-benchmark -t hset -c 50: {hset:.0f} HSET/s")
    print(f"ratio heartbeats/s : HSET/s = {best / hset:.3f} (1 : {hset / best:.1f})")
    print(
        f"load average after the run: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores "
        "(above ~3 means other work shared the cores and the rates above are a floor)"
    )


def print_profile(profile_to: Path) -> None:
    print("\nprofile (pyinstrument, one worker, top of the tree):")
    lines = profile_to.read_text().splitlines()
    for line in lines:
        match = re.match(r"^[\s│├└─]*(\d+\.\d+)\s", line)
        if match and float(match.group(1)) > 0.05 * float(
            re.search(r"Duration:\s+([\d.]+)", profile_to.read_text()).group(1)
        ):  # type: ignore[union-attr]
            print("  " + line[:200])


def main() -> None:
    args = parse_args()
    wrk = ensure_wrk()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    work = Path(tempfile.mkdtemp(prefix="bench-heartbeat-api-"))
    profile_to = work / "profile.txt" if args.profile else None
    workers = 1 if args.profile else args.workers
    api = start_api(port, workers, profile_to)
    try:
        wait_healthy(base_url, api)
        results = load_runs(args, wrk, base_url, api, work, workers)
    finally:
        stop_api(api, args.profile)
    print_ratio(results)
    if profile_to is not None and profile_to.exists():
        print_profile(profile_to)
    if profile_to is None:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(f"full profile: {profile_to}")


if __name__ == "__main__":
    main()
