"""Pure logic of a remote execution: names, paths, labels, environment."""

from __future__ import annotations

import pytest
from heartbeat_operator import _remote

EID = "550e8400-e29b-41d4-a716-446655440000"


def test_paths_follow_the_guide_layout() -> None:
    paths = _remote.RemotePaths.for_execution(EID)
    assert paths.config_file == f"/tmp/task_configs/{EID}/config.json"
    assert paths.output_dir == f"/tmp/task_outputs/{EID}"
    assert paths.completion_file == f"/tmp/task_outputs/{EID}/_completion.json"
    assert _remote.container_name(EID) == f"task-{EID}"


@pytest.mark.parametrize("bad", ["../etc", "x; rm -rf /", EID.upper(), ""])
def test_execution_ids_that_could_escape_a_path_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="UUID"):
        _remote.RemotePaths.for_execution(bad)


@pytest.mark.parametrize("root", ["relative/dir", "/tmp/../etc"])
def test_roots_must_be_absolute_without_dotdot(root: str) -> None:
    with pytest.raises(ValueError, match="absolute"):
        _remote.RemotePaths.for_execution(EID, config_root=root)


def test_env_has_contract_one_and_refuses_to_override_it() -> None:
    env = _remote.container_env(execution_id=EID, api_base_url="http://api:8000/",
                                token="tok", heartbeat_interval=5.0, extra={"API_KEY": "s"})
    assert env["TASK_EXECUTION_ID"] == EID
    assert env["CONFIG_PATH"] == "/app/config.json"
    assert env["API_BASE_URL"] == "http://api:8000"
    assert env["HOSTNAME"] == f"task-{EID}"
    assert env["HEARTBEAT_TOKEN"] == "tok"
    assert env["HEARTBEAT_INTERVAL"] == "5"
    assert env["API_KEY"] == "s"
    with pytest.raises(ValueError, match="set by the operator"):
        _remote.container_env(execution_id=EID, api_base_url="x", token="t",
                              heartbeat_interval=5, extra={"HEARTBEAT_TOKEN": "evil"})
    with pytest.raises(ValueError, match="not valid"):
        _remote.container_env(execution_id=EID, api_base_url="x", token="t",
                              heartbeat_interval=5, extra={"BAD-NAME": "v"})


def test_labels_find_every_try_of_one_task_instance() -> None:
    labels = _remote.labels(execution_id=EID, dag_id="d", task_id="t", run_id="r",
                            try_number=2, map_index=-1)
    assert labels["heartbeat.try_number"] == "2"
    wanted = _remote.task_instance_filter(dag_id="d", task_id="t", run_id="r", map_index=-1)
    assert all(f"{k}={v}" in wanted for k, v in labels.items()
               if k.split(".", 1)[1] in {"dag_id", "task_id", "run_id", "map_index"})


def test_container_user_is_the_file_owner_or_the_image_user_for_root() -> None:
    assert _remote.container_user(0, 0) == "1000:1000"
    assert _remote.container_user(1001, 1002) == "1001:1002"


@pytest.mark.parametrize(("policy", "succeeded", "removed"), [
    ("never", True, False), ("success", True, True), ("success", False, False),
    ("always", False, True),
])
def test_removal_policy(policy: str, succeeded: bool, removed: bool) -> None:
    assert _remote.should_remove(policy, succeeded=succeeded) is removed


def test_memory_limits_parse_and_bad_ones_are_named() -> None:
    assert _remote.memory_bytes("512m") == 512 * 1024**2
    assert _remote.memory_bytes("2g") == 2 * 1024**3
    assert _remote.memory_bytes(1024) == 1024
    with pytest.raises(ValueError, match="'lots'"):
        _remote.memory_bytes("lots")


def test_rm_command_quotes_paths() -> None:
    assert _remote.rm_command("/tmp/a b", "/tmp/c") == "rm -rf -- '/tmp/a b' /tmp/c"


def test_progress_summary_is_one_short_line() -> None:
    line = _remote.summarize_progress({"stage": "fetching", "pages": 3, "nested": {"a": 1}})
    assert line == "fetching, pages=3"
    assert _remote.summarize_progress(None) == "no progress reported yet"


def test_least_busy_host_wins_and_ties_are_shared() -> None:
    from heartbeat_operator.placement import pick_least_busy

    assert pick_least_busy({"a": 3, "b": 1, "c": 2}, lambda xs: xs[0]) == "b"
    assert pick_least_busy({"a": 1, "b": 1, "c": 2}, lambda xs: xs[-1]) == "b"
    seen = {pick_least_busy({"a": 0, "b": 0}, lambda xs, i=i: xs[i % 2]) for i in range(2)}
    assert seen == {"a", "b"}


def test_container_spec_mounts_the_config_read_only_and_sets_the_limits() -> None:
    paths = _remote.RemotePaths.for_execution(EID)
    spec = _remote.container_spec(
        image="img:1", env={"A": "1"}, labels={"heartbeat.execution_id": EID},
        user="1000:1000", paths=paths, memory=_remote.memory_bytes("256m"), cpus=0.5,
        network="host", extra_hosts={"host.docker.internal": "host-gateway"})
    assert spec["Image"] == "img:1" and spec["User"] == "1000:1000"
    assert spec["Env"] == ["A=1"]
    assert spec["Labels"] == {"heartbeat.execution_id": EID}
    host = spec["HostConfig"]
    assert host["Binds"] == [f"{paths.config_file}:/app/config.json:ro",
                             f"{paths.output_dir}:/app/output:rw"]
    assert host["Memory"] == 256 * 1024**2 and host["NanoCpus"] == 500_000_000
    assert host["NetworkMode"] == "host"
    assert host["ExtraHosts"] == ["host.docker.internal:host-gateway"]
    bare = _remote.container_spec(image="img", env={}, labels={}, user="1:1", paths=paths)
    assert set(bare["HostConfig"]) == {"Binds"}
