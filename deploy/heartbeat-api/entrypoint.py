"""Entrypoint of the heartbeat API image in the compose stack: refuse placeholder
secrets, build HEARTBEAT_REDIS_URL from REDIS_PASSWORD (quoted) unless it is set, then
run ``python -m heartbeat_api`` with the given flags."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stack_secrets import SecretError, require  # noqa: E402


def main(argv: list[str]) -> int:
    env = dict(os.environ)
    try:
        require(["HEARTBEAT_SECRET", "HEARTBEAT_ADMIN_TOKEN", "REDIS_PASSWORD"], env)
    except SecretError as exc:
        sys.stderr.write(f"heartbeat-api: {exc}\n")
        return 2
    if not env.get("HEARTBEAT_REDIS_URL"):
        password = quote(env["REDIS_PASSWORD"], safe="")
        host = env.get("REDIS_HOST", "redis")
        db = env.get("HEARTBEAT_REDIS_DB", "0")
        env["HEARTBEAT_REDIS_URL"] = f"redis://:{password}@{host}:6379/{db}"
    env.pop("REDIS_PASSWORD")
    os.execve(sys.executable, [sys.executable, "-m", "heartbeat_api", *argv], env)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
