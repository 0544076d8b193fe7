"""Entrypoint of the Airflow image in the compose stack (runs as root, then drops to
the `airflow` user).

    entrypoint.py init                 migrate the metadata database, then exit
    entrypoint.py api-server|scheduler|dag-processor|triggerer
    entrypoint.py celery worker        (the celery profile)
    entrypoint.py <any airflow command>

Before Airflow starts it refuses empty or placeholder secrets, builds the database and
broker URLs from the POSTGRES_* and REDIS_* variables (quoted, so any password works),
and builds the three connections the DAGs use unless the environment already sets them:

- ``execution_host`` (ssh): EXEC_HOST_SSH_HOST/PORT/USER, the private key mounted in
  /run/stack-ssh and the host's public key beside it, checked on every connection;
- ``heartbeat_api`` (heartbeat): the API inside the compose network, the admin token as the
  password, and ``container_url``, the address task containers use;
- ``heartbeat_redis`` (redis): the heartbeat store.
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stack_secrets import SecretError, require  # noqa: E402

AIRFLOW_HOME = Path(os.environ.get("AIRFLOW_HOME", "/opt/airflow"))
SSH_MOUNT = Path(os.environ.get("STACK_SSH_DIR", "/run/stack-ssh"))
RUN_AS = "airflow"
# .env names -> the Airflow options they set; errors name the .env variable.
AIRFLOW_SECRETS = {
    "AIRFLOW_FERNET_KEY": "AIRFLOW__CORE__FERNET_KEY",
    "AIRFLOW_JWT_SECRET": "AIRFLOW__API_AUTH__JWT_SECRET",
    "AIRFLOW_API_SECRET_KEY": "AIRFLOW__API__SECRET_KEY",
}
SECRETS = [
    "AIRFLOW_FERNET_KEY:44",
    "AIRFLOW_JWT_SECRET",
    "AIRFLOW_API_SECRET_KEY",
    "AIRFLOW_ADMIN_PASSWORD:12",
    "POSTGRES_PASSWORD",
    "REDIS_PASSWORD",
    "HEARTBEAT_ADMIN_TOKEN",
]
# Raw secrets are folded into URLs and connections; Airflow's processes don't need them.
RAW_SECRETS = ("AIRFLOW_ADMIN_PASSWORD", "POSTGRES_PASSWORD", "REDIS_PASSWORD",
               "HEARTBEAT_ADMIN_TOKEN", *AIRFLOW_SECRETS)


class SetupError(RuntimeError):
    """The stack's configuration cannot work; the message says what to change."""


def database_url(env: dict[str, str] | os._Environ[str]) -> str:
    """SQLAlchemy URL of the metadata database (psycopg 3, sync and async alike)."""
    user = quote(env.get("POSTGRES_USER", "airflow"), safe="")
    password = quote(env["POSTGRES_PASSWORD"], safe="")
    host = env.get("POSTGRES_HOST", "postgres")
    db = quote(env.get("POSTGRES_DB", "airflow"), safe="")
    return f"postgresql+psycopg://{user}:{password}@{host}:5432/{db}"


def redis_url(env: dict[str, str], db: str) -> str:
    password = quote(env["REDIS_PASSWORD"], safe="")
    return f"redis://:{password}@{env.get('REDIS_HOST', 'redis')}:6379/{db}"


def read_host_key() -> str:
    path = SSH_MOUNT / "exec_host_ed25519.pub"
    if not path.is_file():
        raise SetupError(
            f"{path} is missing: run `scripts/compose.sh prepare` (it generates the SSH keys "
            "of the execution host), or set AIRFLOW_CONN_EXECUTION_HOST for your own host"
        )
    return " ".join(path.read_text().split()[:2])


def connections(env: dict[str, str], key_file: str) -> dict[str, dict[str, object]]:
    """The connections the DAGs use, for those the environment does not set itself."""
    wanted: dict[str, dict[str, object]] = {}
    if not env.get("AIRFLOW_CONN_EXECUTION_HOST"):
        wanted["EXECUTION_HOST"] = {
            "conn_type": "ssh",
            "host": env.get("EXEC_HOST_SSH_HOST", "exec-host"),
            "port": int(env.get("EXEC_HOST_SSH_PORT", "22")),
            "login": env.get("EXEC_HOST_SSH_USER", "collector"),
            "extra": {"key_file": key_file, "host_key": read_host_key(),
                      "look_for_keys": "false"},
        }
    if not env.get("AIRFLOW_CONN_HEARTBEAT_API"):
        wanted["HEARTBEAT_API"] = {
            "conn_type": "heartbeat",
            "host": env.get("HEARTBEAT_API_HOST", "heartbeat-api"),
            "port": 8000,
            "schema": "http",
            "password": env["HEARTBEAT_ADMIN_TOKEN"],
            "extra": {"container_url": env.get("HEARTBEAT_CONTAINER_URL",
                                               "http://host.docker.internal:8000")},
        }
    if not env.get("AIRFLOW_CONN_HEARTBEAT_REDIS"):
        wanted["HEARTBEAT_REDIS"] = {
            "conn_type": "redis",
            "host": env.get("REDIS_HOST", "redis"),
            "port": 6379,
            "password": env["REDIS_PASSWORD"],
            "extra": {"db": int(env.get("HEARTBEAT_REDIS_DB", "0"))},
        }
    return wanted


def airflow_env(env: dict[str, str], key_file: str) -> dict[str, str]:
    """The environment Airflow runs with: built URLs and connections, raw secrets gone."""
    out = dict(env)
    for name, option in AIRFLOW_SECRETS.items():
        out[option] = env[name]
    url = env.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN") or database_url(env)
    out["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = url
    # Airflow derives the async URL as postgresql+asyncpg, which is not installed;
    # psycopg 3 serves both.
    out.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC", url)
    user = env.get("AIRFLOW_ADMIN_USER", "admin")
    out["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] = f"{user}:admin"
    # The live view is a page of the heartbeat API that the user's browser loads, so its
    # address is the published port, not the name inside the compose network.
    out.setdefault("AIRFLOW__HEARTBEAT_OPERATOR__UI_URL", env.get("HEARTBEAT_UI_URL") or
                   f"http://localhost:{env.get('HEARTBEAT_API_PORT', '8000')}/ui")
    if env.get("AIRFLOW__CORE__EXECUTOR", "LocalExecutor") == "CeleryExecutor":
        out.setdefault("AIRFLOW__CELERY__BROKER_URL", redis_url(env, env.get("CELERY_REDIS_DB",
                                                                            "1")))
        out.setdefault("AIRFLOW__CELERY__RESULT_BACKEND", "db+" + url)
    for conn_id, conn in connections(env, key_file).items():
        out[f"AIRFLOW_CONN_{conn_id}"] = json.dumps(conn)
    for name in RAW_SECRETS:
        out.pop(name, None)
    return out


def install_ssh_key(owner: pwd.struct_passwd) -> str:
    """Copy the mounted private key where only the airflow user reads it."""
    target_dir = AIRFLOW_HOME / ".ssh"
    target = target_dir / "id_ed25519"
    source = SSH_MOUNT / "id_ed25519"
    if not source.is_file():
        return str(target)  # only needed for the built execution_host connection
    target_dir.mkdir(mode=0o700, exist_ok=True)
    shutil.copyfile(source, target)
    for path in (target_dir, target):
        os.chown(path, owner.pw_uid, owner.pw_gid)
    target.chmod(0o600)
    return str(target)


def write_admin_password(env: dict[str, str], owner: pwd.struct_passwd) -> None:
    """The simple auth manager keeps its users' passwords in this file; we set it from
    .env instead of letting it generate one."""
    path = AIRFLOW_HOME / "simple_auth_manager_passwords.json.generated"
    user = env.get("AIRFLOW_ADMIN_USER", "admin")
    path.write_text(json.dumps({user: env["AIRFLOW_ADMIN_PASSWORD"]}) + "\n")
    os.chown(path, owner.pw_uid, owner.pw_gid)
    path.chmod(0o600)


def check_fernet_key(env: dict[str, str]) -> None:
    from cryptography.fernet import Fernet

    try:
        Fernet(env["AIRFLOW_FERNET_KEY"])
    except ValueError:
        raise SetupError(
            "AIRFLOW_FERNET_KEY is not a Fernet key (32 url-safe base64-encoded bytes); "
            "make one with `scripts/compose.sh init-env` or `python3 -c 'from "
            "cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`"
        ) from None


def check_executor(env: dict[str, str], argv: list[str]) -> None:
    executor = env.get("AIRFLOW__CORE__EXECUTOR", "LocalExecutor")
    if argv[:1] == ["celery"] and executor != "CeleryExecutor":
        raise SetupError(
            f"a celery worker with AIRFLOW_EXECUTOR={executor} would never get a task: set "
            "AIRFLOW_EXECUTOR=CeleryExecutor in .env together with COMPOSE_PROFILES=celery"
        )
    if executor == "CeleryExecutor":
        try:
            import airflow.providers.celery  # noqa: F401
        except ImportError:
            raise SetupError(
                "AIRFLOW_EXECUTOR=CeleryExecutor but apache-airflow-providers-celery is not "
                "in this image: rebuild it after adding the provider to the lock"
            ) from None


def drop_privileges(owner: pwd.struct_passwd) -> None:
    os.setgroups([])
    os.setgid(owner.pw_gid)
    os.setuid(owner.pw_uid)
    os.environ["HOME"] = str(AIRFLOW_HOME)


def main(argv: list[str]) -> int:
    argv = argv or ["version"]
    env = dict(os.environ)
    try:
        require(SECRETS, env)
        check_fernet_key(env)
        check_executor(env, argv)
        owner = pwd.getpwnam(RUN_AS)
        key_file = install_ssh_key(owner)
        run_env = airflow_env(env, key_file)
    except (SecretError, SetupError) as exc:
        sys.stderr.write(f"airflow ({argv[0]}): {exc}\n")
        return 2
    if argv[0] == "api-server":
        write_admin_password(env, owner)
    drop_privileges(owner)
    run_env["HOME"] = str(AIRFLOW_HOME)
    if argv == ["init"]:
        # Idempotent: a second `up` finds the schema current and returns at once.
        return subprocess.run(["airflow", "db", "migrate"], env=run_env, check=False).returncode
    os.execvpe("airflow", ["airflow", *argv], run_env)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
