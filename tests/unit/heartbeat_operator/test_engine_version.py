"""Engine API version negotiation, case by case: the engines this client supports (Docker
20.10 to 29 and later) and the ones it cannot speak to."""

from __future__ import annotations

import json
import pickle

import pytest
from airflow.sdk.exceptions import AirflowFailException
from heartbeat_operator._engine_version import (
    NEWEST,
    OLDEST,
    ApiVersion,
    EngineRange,
    EngineVersionUnsupported,
    negotiate,
    range_from_ping,
    range_from_version,
    refuses_version,
)


def offered(newest: str, oldest: str | None) -> EngineRange:
    return EngineRange(ApiVersion.parse(newest), ApiVersion.parse(oldest) if oldest else None)


def test_versions_parse_and_compare_as_numbers() -> None:
    assert ApiVersion.parse("1.41") == ApiVersion(1, 41)
    assert ApiVersion.parse("v1.9") < ApiVersion.parse("1.10")
    assert str(ApiVersion(1, 52)) == "1.52"
    with pytest.raises(ValueError, match="not an Engine API version"):
        ApiVersion.parse("latest")


def test_the_client_range_is_docker_20_10_to_29() -> None:
    assert (str(OLDEST), str(NEWEST)) == ("1.41", "1.52")


@pytest.mark.parametrize(("engine", "newest", "oldest", "spoken"), [
    ("20.10", "1.41", "1.12", "1.41"),
    ("24.0", "1.43", "1.12", "1.43"),
    ("25.0", "1.44", "1.24", "1.44"),
    ("28.2", "1.50", "1.24", "1.50"),
    ("29.0", "1.52", "1.44", "1.52"),
    ("a later 29.x", "1.56", "1.44", "1.52"),
    ("behind a ping-only proxy", "1.47", None, "1.47"),
])
def test_the_newest_common_version_is_spoken(engine: str, newest: str, oldest: str | None,
                                              spoken: str) -> None:
    assert str(negotiate(offered(newest, oldest), f"Docker {engine}")) == spoken


def test_an_engine_older_than_20_10_is_refused_naming_host_and_ranges() -> None:
    with pytest.raises(EngineVersionUnsupported) as caught:
        negotiate(offered("1.40", "1.12"), "execution host 10.0.0.5:22")
    assert str(caught.value) == (
        "the Docker engine of execution host 10.0.0.5:22 speaks Engine API 1.12 to 1.40, "
        "this client 1.41 to 1.52: no version in common; upgrade the engine to Docker "
        "20.10 or later")
    assert caught.value.engine == "execution host 10.0.0.5:22"
    # A retry cannot change the engine: the task fails for good.
    assert isinstance(caught.value, AirflowFailException)
    assert str(pickle.loads(pickle.dumps(caught.value))) == str(caught.value)


def test_an_engine_that_dropped_every_version_we_speak_says_what_to_do() -> None:
    with pytest.raises(EngineVersionUnsupported, match=(
            r"speaks Engine API 1\.53 to 1\.60, this client 1\.41 to 1\.52: no version in "
            r"common; upgrade heartbeat-operator, or let the engine accept API 1\.52 "
            r"\(dockerd's DOCKER_MIN_API_VERSION\)")):
        negotiate(offered("1.60", "1.53"), "h")


def test_a_ping_only_engine_older_than_20_10_is_refused() -> None:
    with pytest.raises(EngineVersionUnsupported, match=r"speaks Engine API \? to 1\.39"):
        negotiate(offered("1.39", None), "h")


def test_the_engines_answers_are_read() -> None:
    body = json.dumps({"Version": "29.0.0", "ApiVersion": "1.52", "MinAPIVersion": "1.44"})
    assert range_from_version(body.encode()) == offered("1.52", "1.44")
    assert range_from_version(b'{"ApiVersion": "1.41"}') == offered("1.41", None)
    assert range_from_ping({b"api-version": b"1.52"}) == offered("1.52", None)
    with pytest.raises(ValueError, match="unreadable /version answer"):
        range_from_version(b"<html>")
    with pytest.raises(ValueError, match="no Api-Version header"):
        range_from_ping({})


def test_the_engines_refusal_of_a_version_is_recognised() -> None:
    too_old = ("client version 1.41 is too old. Minimum supported API version is 1.44, "
               "please upgrade your client to a newer version")
    assert refuses_version(400, too_old)
    assert refuses_version(400, "client version 1.53 is too new. Maximum supported API "
                                "version is 1.52")
    assert not refuses_version(404, too_old)
    assert not refuses_version(400, "invalid reference format")
