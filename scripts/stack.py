"""The local stack on top of the test bed: heartbeat API, sample site and Airflow
(API server, scheduler, dag-processor, triggerer), each its own process.

    python scripts/stack.py start [COMPONENT...]    start what is not running
    python scripts/stack.py stop [COMPONENT...]     stop what this script started
    python scripts/stack.py restart COMPONENT...
    python scripts/stack.py status
    python scripts/stack.py env                     print the environment the stack uses

Secrets (heartbeat secret, admin token, Airflow keys) are generated once into
.testbed/secrets.json, which git ignores.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATE = Path(os.environ.get("STATE", ROOT / ".testbed"))
PIDS = STATE / "pids"
LOGS = STATE / "logs"
AIRFLOW_HOME = ROOT / ".airflow"
VENV_BIN = ROOT / ".venv" / "bin"

API_PORT = int(os.environ.get("HEARTBEAT_API_PORT", "8000"))
AIRFLOW_PORT = int(os.environ.get("AIRFLOW_PORT", "8080"))
SITE_PORT = int(os.environ.get("SAMPLE_SITE_PORT", "8088"))
# The stack's own Redis, persistent (AOF, fsync on every write), so a Redis restart
# mid-run loses no execution: the heartbeat API and the trigger reconnect to it.
REDIS_PORT = int(os.environ.get("STACK_REDIS_PORT", "6390"))
REDIS_DB = 0
LOCAL_BUNDLE = "airflow.dag_processing.bundles.local.LocalDagBundle"
SSH_PORT = int(os.environ.get("SSH_PORT", "2222"))

COMPONENTS = (
    "redis",
    "heartbeat-api",
    "sample-site",
    "airflow-api-server",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
)
# Started only when asked for by name (the high-availability tests' second triggerer).
EXTRA_COMPONENTS = ("airflow-triggerer-2",)


def log(msg: str) -> None:
    print(f"[stack] {msg}", file=sys.stderr, flush=True)


def load_secrets() -> dict[str, str]:
    """Generated once; keys added by a newer version are filled in."""
    from cryptography.fernet import Fernet

    path = STATE / "secrets.json"
    data: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    wanted = {
        "heartbeat_secret": lambda: secrets.token_urlsafe(32),
        "heartbeat_admin_token": lambda: secrets.token_urlsafe(32),
        "airflow_jwt_secret": lambda: secrets.token_urlsafe(32),
        "airflow_secret_key": lambda: secrets.token_urlsafe(32),
        "airflow_fernet_key": lambda: Fernet.generate_key().decode(),
        "sample_api_token": lambda: secrets.token_urlsafe(24),
    }
    missing = {key: make() for key, make in wanted.items() if key not in data}
    if missing:
        data.update(missing)
        STATE.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data, indent=2))
        path.chmod(0o600)
    return data


def stack_env() -> dict[str, str]:
    s = load_secrets()
    env = dict(os.environ)
    env["SAMPLE_API_TOKEN"] = s["sample_api_token"]
    env["PATH"] = f"{VENV_BIN}:{env.get('PATH', '')}"
    env.update(
        {
            "HEARTBEAT_SECRET": s["heartbeat_secret"],
            "HEARTBEAT_ADMIN_TOKEN": s["heartbeat_admin_token"],
            "HEARTBEAT_REDIS_URL": f"redis://127.0.0.1:{REDIS_PORT}/{REDIS_DB}",
            "AIRFLOW_HOME": str(AIRFLOW_HOME),
            "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
            # The end-to-end tests' and the benchmarks' DAGs are bundles of their own,
            # paused until a test or a benchmark unpauses them.
            "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps([
                {"name": "dags-folder", "classpath": LOCAL_BUNDLE,
                 "kwargs": {"path": str(ROOT / "dags")}},
                {"name": "e2e-tests", "classpath": LOCAL_BUNDLE,
                 "kwargs": {"path": str(ROOT / "tests" / "e2e" / "dags")}},
                {"name": "benchmarks", "classpath": LOCAL_BUNDLE,
                 "kwargs": {"path": str(ROOT / "bench" / "dags")}},
            ]),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "4",
            # The connection form's Test button (off by default in Airflow).
            "AIRFLOW__CORE__TEST_CONNECTION": "Enabled",
            "AIRFLOW__CORE__FERNET_KEY": s["airflow_fernet_key"],
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": (
                f"http://127.0.0.1:{AIRFLOW_PORT}/execution/"
            ),
            "AIRFLOW__API__HOST": "127.0.0.1",
            "AIRFLOW__API__PORT": str(AIRFLOW_PORT),
            "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{AIRFLOW_PORT}",
            "AIRFLOW__API__SECRET_KEY": s["airflow_secret_key"],
            "AIRFLOW__API__WORKERS": "1",
            "AIRFLOW__API_AUTH__JWT_SECRET": s["airflow_jwt_secret"],
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "30",
            "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
            "AIRFLOW__SCHEDULER__TASK_QUEUED_TIMEOUT": "300",
            "AIRFLOW__TRIGGERER__CAPACITY": "200",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        }
    )
    return env


def commands() -> dict[str, list[str]]:
    py = str(VENV_BIN / "python")
    airflow = str(VENV_BIN / "airflow")
    redis_dir = STATE / "redis"
    redis_dir.mkdir(parents=True, exist_ok=True)
    return {
        "redis": ["redis-server", "--bind", "127.0.0.1", "--port", str(REDIS_PORT),
                  "--dir", str(redis_dir), "--appendonly", "yes", "--appendfsync", "always",
                  "--save", "", "--maxmemory", "512mb", "--maxmemory-policy", "noeviction"],
        "heartbeat-api": [py, "-m", "heartbeat_api", "--host", "0.0.0.0", "--port", str(API_PORT)],
        "sample-site": [py, str(ROOT / "scripts" / "sample_site.py"), "serve", "--port",
                        str(SITE_PORT)],
        "airflow-api-server": [airflow, "api-server"],
        "airflow-scheduler": [airflow, "scheduler"],
        "airflow-dag-processor": [airflow, "dag-processor"],
        "airflow-triggerer": [airflow, "triggerer"],
        "airflow-triggerer-2": [airflow, "triggerer", "--skip-serve-logs"],
    }


def pid_of(name: str) -> int | None:
    path = PIDS / name
    if not path.exists():
        return None
    pid = int(path.read_text())
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        path.unlink()
        return None
    return pid


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def redis_ok() -> bool:
    import socket

    try:
        with socket.create_connection(("127.0.0.1", REDIS_PORT), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def wait_until(what: str, check: object, limit: float, name: str) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if callable(check) and check():
            return
        if pid_of(name) is None:
            sys.exit(f"[stack] {what} exited; see {LOGS / (name + '.log')}")
        time.sleep(0.2)
    sys.exit(f"[stack] {what} not ready after {limit:.0f}s; see {LOGS / (name + '.log')}")


HEALTH = {
    "redis": lambda: redis_ok(),
    "heartbeat-api": lambda: http_ok(f"http://127.0.0.1:{API_PORT}/healthz"),
    "sample-site": lambda: http_ok(f"http://127.0.0.1:{SITE_PORT}/robots.txt"),
    "airflow-api-server": lambda: http_ok(f"http://127.0.0.1:{AIRFLOW_PORT}/api/v2/monitor/health"),
}


def start_one(name: str, env: dict[str, str]) -> None:
    if pid_of(name) is not None:
        return
    PIDS.mkdir(parents=True, exist_ok=True)
    LOGS.mkdir(parents=True, exist_ok=True)
    out = open(LOGS / f"{name}.log", "ab")  # noqa: SIM115 - handed to the child
    proc = subprocess.Popen(
        commands()[name], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL, start_new_session=True,
    )
    (PIDS / name).write_text(str(proc.pid))
    log(f"started {name} (pid {proc.pid})")


def stop_one(name: str) -> None:
    pid = pid_of(name)
    if pid is None:
        return
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    else:
        try:
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    (PIDS / name).unlink(missing_ok=True)
    log(f"stopped {name}")


def airflow_prepare(env: dict[str, str]) -> None:
    """Migrate the metadata database and (re)write the connections the DAGs need."""
    AIRFLOW_HOME.mkdir(exist_ok=True)
    marker = AIRFLOW_HOME / ".migrated-3.3.2"
    if not marker.exists():
        log("migrating the Airflow metadata database (SQLite)")
        subprocess.run([str(VENV_BIN / "airflow"), "db", "migrate"], env=env, check=True,
                       cwd=ROOT, stdout=subprocess.DEVNULL)
        marker.touch()
    conns_file = STATE / "connections.json"
    conns_file.write_text(json.dumps(connections(), indent=2))
    conns_file.chmod(0o600)
    subprocess.run(
        [str(VENV_BIN / "airflow"), "connections", "import", "--overwrite", str(conns_file)],
        env=env, check=True, cwd=ROOT, stdout=subprocess.DEVNULL,
    )


def connections() -> dict[str, dict[str, object]]:
    s = load_secrets()
    ssh_dir = STATE / "ssh"
    host_key = " ".join((ssh_dir / "host_ed25519.pub").read_text().split()[:2])
    return {
        "execution_host": {
            "conn_type": "ssh",
            "host": "127.0.0.1",
            "port": SSH_PORT,
            "login": "root",
            "extra": {"key_file": str(ssh_dir / "id_ed25519"), "host_key": host_key,
                      "look_for_keys": "false"},
        },
        # A second SSH host in front of the same engine, for placement across hosts.
        "execution_host_2": {
            "conn_type": "ssh",
            "host": "127.0.0.1",
            "port": SSH_PORT + 1,
            "login": "root",
            "extra": {"key_file": str(ssh_dir / "id_ed25519"), "host_key": host_key,
                      "look_for_keys": "false"},
        },
        "heartbeat_api": {
            "conn_type": "heartbeat",
            "host": "127.0.0.1",
            "port": API_PORT,
            "schema": "http",
            "password": s["heartbeat_admin_token"],
            "extra": {"container_url": f"http://host.docker.internal:{API_PORT}"},
        },
        "heartbeat_redis": {
            "conn_type": "redis",
            "host": "127.0.0.1",
            "port": REDIS_PORT,
            "extra": {"db": REDIS_DB},
        },
        # The API DAG's token for the sample shop API.
        "shop_api": {"conn_type": "http", "host": "host.docker.internal", "port": SITE_PORT,
                     "password": s["sample_api_token"]},
        # The database DAG's source and target (local PostgreSQL, see demo_databases).
        "demo_source_db": {"conn_type": "postgres", "host": "127.0.0.1", "port": 5432,
                           "login": "postgres", "schema": "demo_source"},
        "demo_target_db": {"conn_type": "postgres", "host": "127.0.0.1", "port": 5432,
                           "login": "postgres", "schema": "demo_target"},
    }


def demo_databases() -> None:
    """The database DAG's demo: a products table in demo_source, an empty demo_target."""
    def psql(db: str, sql: str) -> str:
        return subprocess.run(
            ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", db, "-tAc", sql],
            check=True, capture_output=True, text=True).stdout.strip()

    for db in ("demo_source", "demo_target"):
        if psql("postgres", f"select 1 from pg_database where datname = '{db}'") != "1":
            psql("postgres", f"create database {db}")
    psql("demo_source", """
        create table if not exists products (
            id integer primary key, name text not null, category text,
            price numeric(10, 2), in_stock boolean,
            updated_at timestamptz not null default now());
        insert into products (id, name, category, price, in_stock)
        select g, 'Product ' || g, (array['kitchen', 'garden', 'office'])[1 + g % 3],
               round((9.5 + g * 7.25)::numeric, 2), g % 4 <> 0
        from generate_series(1, 500) g
        on conflict (id) do nothing;""")


def start(names: list[str]) -> None:
    env = stack_env()
    if any(n.startswith("airflow-") for n in names):
        demo_databases()
        airflow_prepare(env)
    for name in names:
        start_one(name, env)
    for name in names:
        check = HEALTH.get(name)
        if check is not None:
            wait_until(name, check, 90, name)


def status() -> None:
    s = load_secrets()
    for name in COMPONENTS + EXTRA_COMPONENTS:
        pid = pid_of(name)
        if pid or name in COMPONENTS:
            print(f"{name:22} {'pid ' + str(pid) if pid else 'down'}")
    password = admin_password()
    print(f"{'Airflow UI':22} http://127.0.0.1:{AIRFLOW_PORT}  (admin / {password or '?'})")
    print(f"{'heartbeat API':22} http://127.0.0.1:{API_PORT}/docs  "
          f"(admin token in {STATE / 'secrets.json'})")
    print(f"{'sample site':22} http://127.0.0.1:{SITE_PORT}/")
    del s


def admin_password() -> str | None:
    path = AIRFLOW_HOME / "simple_auth_manager_passwords.json.generated"
    if not path.exists():
        return None
    data: dict[str, str] = json.loads(path.read_text())
    return data.get("admin")


def main(argv: list[str]) -> None:
    if not argv:
        sys.exit(__doc__)
    known = COMPONENTS + EXTRA_COMPONENTS
    action = argv[0]
    names = argv[1:] or list(known if action == "stop" else COMPONENTS)
    unknown = [n for n in names if n not in known]
    if unknown:
        sys.exit(f"unknown component(s) {unknown}; known: {', '.join(known)}")
    if action == "start":
        start(names)
    elif action == "stop":
        for name in reversed(names):
            stop_one(name)
    elif action == "restart":
        for name in names:
            stop_one(name)
        start(names)
    elif action == "status":
        status()
    elif action == "env":
        for key, value in sorted(stack_env().items()):
            if key.startswith(("AIRFLOW", "HEARTBEAT_REDIS")):
                print(f"export {key}={value!r}" if "SECRET" not in key and "KEY" not in key
                      else f"export {key}=<hidden>")
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv[1:])
