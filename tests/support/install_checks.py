"""What the install test checks, apart from running things: the workspace's packages,
a wheel's requirements, `pip freeze` output, and whether a requirement is a range."""

from __future__ import annotations

import tomllib
import zipfile
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

LOWER = {">=", ">", "~="}
UPPER = {"<", "<=", "~="}


def workspace_members(root: Path) -> dict[str, str]:
    """Every workspace member's name and version, from the root's member globs."""
    workspace = tomllib.loads((root / "pyproject.toml").read_text())["tool"]["uv"]["workspace"]
    excluded = {root / path for path in workspace.get("exclude", [])}
    members: dict[str, str] = {}
    for pattern in workspace["members"]:
        for folder in sorted(root.glob(pattern)):
            pyproject = folder / "pyproject.toml"
            if folder in excluded or not pyproject.exists():
                continue
            project = tomllib.loads(pyproject.read_text())["project"]
            members[project["name"]] = project["version"]
    return members


def wheel_requirements(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        name = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        metadata = archive.read(name).decode()
    prefix = "Requires-Dist: "
    return [line[len(prefix):] for line in metadata.splitlines() if line.startswith(prefix)]


def dependency_problems(requirements: list[str]) -> list[str]:
    """Requirements that are not a range with a lower and an upper bound (pins and bare
    names are the lock's business)."""
    problems = []
    for text in requirements:
        operators = {spec.operator for spec in Requirement(text).specifier}
        if operators & {"==", "==="} or not operators & LOWER or not operators & UPPER:
            problems.append(text)
    return problems


def freeze(output: str) -> dict[str, str]:
    """`pip freeze` as {canonical name: version}."""
    found = {}
    for line in output.splitlines():
        name, sep, version = line.partition("==")
        if sep:
            found[canonicalize_name(name)] = version.strip()
    return found
