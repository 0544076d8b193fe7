"""Fixtures of the compose stack tests: the stack built and started by
`scripts/compose.sh` and the real docker-compose, under a project of the test's own."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from compose_helpers import Compose, env_file_text, free_port, run


@pytest.fixture(scope="session")
def compose_installed() -> None:
    run(["bash", "scripts/compose.sh", "install"], timeout=300)


@pytest.fixture(scope="module")
def compose_project(tmp_path_factory: pytest.TempPathFactory,
                    compose_installed: None) -> Compose:
    base_image = run(["bash", "scripts/base_image.sh"], timeout=300).stdout.strip()
    project = f"dcptest{uuid.uuid4().hex[:10]}"
    env_file = tmp_path_factory.mktemp("compose") / "stack.env"
    airflow_port, api_port = free_port(), free_port()
    env_file.write_text(env_file_text(project, airflow_port, api_port, base_image))
    env_file.chmod(0o600)
    return Compose(project, env_file, airflow_port, api_port)


@pytest.fixture(scope="module")
def built_stack(compose_project: Compose) -> Compose:
    """The stack's images, built (or found in Docker's cache) from this checkout."""
    run(["bash", "scripts/compose.sh", "build"], env=compose_project.script_env(),
        timeout=1800)
    return compose_project


@pytest.fixture(scope="module")
def running_stack(built_stack: Compose) -> Iterator[Compose]:
    try:
        built_stack.dc("up", "-d", timeout=900)
        built_stack.wait_healthy(600)
        yield built_stack
    finally:
        built_stack.dc("down", "-v", "--remove-orphans", timeout=300, check=False,
                      all_profiles=True)
