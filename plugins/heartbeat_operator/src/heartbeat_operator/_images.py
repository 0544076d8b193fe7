"""The task's image on the execution host: the pull policy, registry credentials
(``X-Registry-Auth``) and what a failed pull means for Airflow's retries.

Everything but :func:`create_container` is pure. Credentials go to the engine in one
header and nowhere else: not into a log record, an error message or XCom; they are sent
only to the registry the image names, never to another one.
"""

from __future__ import annotations

import base64
import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from airflow.sdk.exceptions import AirflowFailException

from heartbeat_operator._docker_api import AsyncDockerApi, ImageMissing, PullFailed
from heartbeat_operator.exceptions import LaunchFailed

DOCKER_HUB = "docker.io"
_HUB_ALIASES = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io",
                          "registry.hub.docker.com"})
_BUILD_HINT = "build it there (make images) or push it to a registry the host can pull from"


@dataclass(frozen=True)
class RegistryCredentials:
    """A login to one registry (``registry`` as images name it: ``host[:port]``)."""

    conn_id: str
    registry: str
    username: str
    password: str = field(repr=False)

    def header(self) -> str:
        """The ``X-Registry-Auth`` value: base64url of the JSON auth config."""
        auth = {"username": self.username, "password": self.password,
                "serveraddress": self.registry}
        return base64.urlsafe_b64encode(json.dumps(auth).encode()).decode()

    def redact(self, text: str) -> str:
        """``text`` without the password or the header carrying it."""
        for secret in (self.password, self.header()):
            text = text.replace(secret, "***")
        return text


def normalize_registry(address: str) -> str:
    """A registry address as an image reference names it: no scheme or path; Docker
    Hub's several names are one."""
    host = re.sub(r"^[a-z][a-z0-9+.-]*://", "", address.strip().lower()).split("/")[0]
    return DOCKER_HUB if host in _HUB_ALIASES else host


def registry_of(image: str) -> str:
    """The registry an image reference pulls from (Docker's rule: a first component
    with a dot or a port, or ``localhost``; otherwise Docker Hub)."""
    first, sep, _ = image.partition("/")
    if sep and ("." in first or ":" in first or first == "localhost"):
        return normalize_registry(first)
    return DOCKER_HUB


MISSING, AUTH, UNREACHABLE, OTHER = "missing", "auth", "unreachable", "other"
_AUTH = re.compile(r"unauthorized|authentication required|no basic auth credentials|"
                   r"incorrect username or password|denied: access forbidden", re.I)
_MISSING = re.compile(r"manifest unknown|not found|name unknown|"
                      r"repository does not exist|no such image", re.I)
_UNREACHABLE = re.compile(r"connection refused|dial tcp|no such host|timeout|"
                          r"connection reset|network is unreachable|\bEOF\b|bad gateway|"
                          r"service unavailable", re.I)


def pull_problem(status: int, message: str) -> str:
    """What a failed pull means: MISSING or AUTH (retrying cannot help), UNREACHABLE
    or OTHER (a retry may succeed)."""
    if "pull access denied" in message.lower():
        return MISSING  # Docker Hub's answer for missing and private images alike
    if status == 401 or _AUTH.search(message):
        return AUTH
    if status == 404 or _MISSING.search(message):
        return MISSING
    if status in (502, 503, 504) or _UNREACHABLE.search(message):
        return UNREACHABLE
    return OTHER


def pull_failure(problem: str, message: str, *, image: str, host: str,
                 credentials: RegistryCredentials | None) -> Exception:
    """The exception a task raises for a failed pull (``message`` is the engine's)."""
    registry = registry_of(image)
    if credentials is not None:
        message = credentials.redact(message)
    if problem == MISSING:
        return AirflowFailException(
            f"image {image!r} is not on execution host {host} and could not be pulled "
            f"(registry {registry} has no such image: {message}): {_BUILD_HINT}")
    if problem == AUTH:
        if credentials is not None and credentials.registry == registry:
            fix = f"check the login and password of connection {credentials.conn_id!r}"
        else:
            fix = f"give the task a docker_conn_id whose host is {registry}"
        return AirflowFailException(
            f"registry {registry} refused to let execution host {host} pull image "
            f"{image!r} ({message}): {fix}")
    if problem == UNREACHABLE:
        return LaunchFailed(
            f"registry {registry} did not answer execution host {host} pulling image "
            f"{image!r} ({message}); a retry may succeed")
    return LaunchFailed(f"image {image!r} could not be pulled on execution host {host} "
                        f"({message})")


def auth_header(image: str, credentials: RegistryCredentials | None,
                log: logging.Logger | Any) -> str | None:
    """The header for pulling ``image``: only for the registry the credentials are for."""
    if credentials is None:
        return None
    registry = registry_of(image)
    if credentials.registry != registry:
        log.warning("Connection %s is for registry %s, image %s is from %s: pulling "
                    "without credentials", credentials.conn_id, credentials.registry,
                    image, registry)
        return None
    return credentials.header()


async def create_container(docker: AsyncDockerApi, name: str, spec: dict[str, Any], *,
                           image: str, policy: str, host: str,
                           credentials: RegistryCredentials | None,
                           log: logging.Logger | Any) -> str:
    """Create the container of ``spec`` (its image ``image``) as the pull policy says;
    its id."""
    if policy == "always":
        await pull(docker, image, host=host, credentials=credentials, log=log)
        return await docker.create(name, spec)
    try:
        return await docker.create(name, spec)
    except ImageMissing:
        if policy == "never":
            raise AirflowFailException(
                f"image {image!r} is not on execution host {host} and the pull policy is "
                f"'never': {_BUILD_HINT}, or set ContainerSettings(pull='if_not_present')"
            ) from None
    log.info("Image %s is not on %s; pulling it", image, host)
    await pull(docker, image, host=host, credentials=credentials, log=log)
    return await docker.create(name, spec)


async def pull(docker: AsyncDockerApi, image: str, *, host: str,
               credentials: RegistryCredentials | None, log: logging.Logger | Any) -> None:
    try:
        await docker.pull(image, auth=auth_header(image, credentials, log))
    except PullFailed as exc:
        raise pull_failure(pull_problem(exc.status, exc.message), exc.message, image=image,
                           host=host, credentials=credentials) from None
    log.info("Pulled %s on %s", image, host)
