"""Refuse to start a service of the compose stack on an empty or placeholder secret.

Used two ways, standard library only so every image can carry it:

    python3 stack_secrets.py NAME[:MIN_LENGTH] ...   (shell entrypoints; exit 2 on a bad one)
    from stack_secrets import require                (Python entrypoints)

The message names the variable and says what to do; it never shows the value.
"""

from __future__ import annotations

import os
import sys

DEFAULT_MIN_LENGTH = 16
# `.env.example` ships `change-me`; these are the other values people type by habit.
PLACEHOLDERS = frozenset(
    {"changeme", "secret", "password", "pleasechange", "admin", "airflow", "postgres", "redis",
     "xxx", "todo"}
)


class SecretError(RuntimeError):
    """A required secret is missing, a placeholder, or too short."""


def problem(name: str, value: str | None, min_length: int = DEFAULT_MIN_LENGTH) -> str | None:
    """What is wrong with secret `name` (None when it is fine)."""
    if value is None or not value.strip():
        return f"{name} is not set"
    folded = value.strip().lower().replace("-", "").replace("_", "")
    if folded in PLACEHOLDERS or folded.startswith("changeme"):
        return f"{name} is still the placeholder from .env.example"
    if len(value) < min_length:
        return f"{name} is shorter than {min_length} characters"
    return None


def require(specs: list[str], environ: dict[str, str] | None = None) -> dict[str, str]:
    """Check each `NAME[:MIN_LENGTH]`; return name -> value, or raise naming every bad one."""
    env = os.environ if environ is None else environ
    values: dict[str, str] = {}
    problems = []
    for spec in specs:
        name, _, length = spec.partition(":")
        issue = problem(name, env.get(name), int(length) if length else DEFAULT_MIN_LENGTH)
        if issue:
            problems.append(issue)
        else:
            values[name] = env[name]
    if problems:
        raise SecretError(
            "refusing to start: " + "; ".join(problems) + ". Set random values in .env "
            "(`scripts/compose.sh init-env` writes one, or `openssl rand -hex 32` per secret)."
        )
    return values


def main(argv: list[str]) -> int:
    try:
        require(argv)
    except SecretError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
