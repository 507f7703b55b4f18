"""The Docker agent through the unchanged docker SDK against a fake Docker Engine on
127.0.0.1 (``fake_docker``), for what the real engine of these machines cannot do: pulls
from a registry (pull policies, a registry refusing an image), user-defined networks and
port publishing (no bridge here), and the agent's checks before it creates a container.
Runs in real containers (end to end, OOM kills, exits, kills, stops) are in
``test_docker_engine_agent.py``."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_claims import (
    RecordingClient,
    make_claim,
)
from fake_docker import FakeDocker, Outcome

from jupyter_flows.agents.base import Launched, RunRefused
from jupyter_flows.agents.docker import DockerAgent, docker_labels, same_path_mounts


@pytest.fixture
def engine() -> Iterator[FakeDocker]:
    with FakeDocker() as fake:
        yield fake


def agent_for(engine: FakeDocker, client: Any = None, **options: Any) -> DockerAgent:
    return DockerAgent(client or RecordingClient(), base_url=engine.base_url, **options)


def env_of(config: dict[str, Any]) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in config["Env"])


def watch_until_done(agent: DockerAgent, claim: Any, handle: Any, rounds: int = 5) -> None:
    agent.launched[claim.flow_run.id] = Launched(claim.flow_run.id, claim.lease.lease_id,
                                                 handle)
    for _ in range(rounds):
        agent._watch()
        if not agent.launched:
            return
    raise AssertionError("the container never ended")


# ------------------------------------------------------------------- the container
def test_the_container_runs_the_flow_run_command_with_labels_env_and_host_config(
        engine: FakeDocker) -> None:
    agent = agent_for(engine, image="agent/default:1", env={"TEAM": "data", "TIER": "agent"},
                      volumes=["/srv/cache:/cache:ro"], networks=["flows", "metrics"])
    claim = make_claim({"type": "docker", "image": "ghcr.io/acme/flows:2",
                        "env": {"TIER": "run"}, "ports": [8080],
                        "host_config": {"mem_limit": "256m", "binds": ["/data:/data"]}},
                       flow_name="nightly etl")
    agent.launch(claim)
    container = engine.only_container()
    config = container.config
    run_id = claim.flow_run.id
    assert config["Image"] == "ghcr.io/acme/flows:2"  # the run config's, not the agent's
    assert config["Cmd"] == ["python", "-m", "jupyter_flows", "execute", "flow-run", run_id]
    env = env_of(config)
    assert env["TEAM"] == "data" and env["TIER"] == "run"
    assert env["JUPYTER_FLOWS_FLOW_RUN_ID"] == run_id
    assert env["JUPYTER_FLOWS_LEASE_ID"] == claim.lease.lease_id
    assert env["JUPYTER_FLOWS_BACKEND_URL"] == RecordingClient.url
    assert config["Labels"] == {"io.jupyter-flows.flow-run-id": run_id,
                                "io.jupyter-flows.flow-id": claim.flow_run.flow_id,
                                "io.jupyter-flows.flow-name": "nightly etl",
                                "io.jupyter-flows.agent": agent.name.replace(" ", "-")}
    host = config["HostConfig"]
    assert host["Memory"] == 256 * 2**20
    assert host["Binds"] == ["/srv/cache:/cache:ro", "/data:/data"]
    assert host["NetworkMode"] == "flows"
    assert config["ExposedPorts"] == {"8080/tcp": {}}
    assert container.networks == ["flows", "metrics"]  # the second joined before start
    assert container.status == "running" and container.name.startswith("jupyter-flows-")


def test_a_universal_run_uses_the_agents_image_and_env_only(engine: FakeDocker) -> None:
    agent = agent_for(engine, image="agent/default:1")
    agent.launch(make_claim({"type": "universal", "env": {"A": "1"}}))
    config = engine.only_container().config
    assert config["Image"] == "agent/default:1" and env_of(config)["A"] == "1"
    assert "Binds" not in config["HostConfig"]


@pytest.mark.parametrize(("policy", "present", "pulled"), [
    ("always", True, True),
    ("if-not-present", True, False),
    ("if-not-present", False, True),
    ("never", True, False),
])
def test_pull_policy(engine: FakeDocker, policy: str, present: bool, pulled: bool) -> None:
    if present:
        engine.images.add("python:3.11")
    agent_for(engine, pull_policy=policy).launch(
        make_claim({"type": "docker", "image": "python:3.11"}))
    assert engine.pulled == (["python:3.11"] if pulled else [])


def test_pull_never_refuses_an_image_the_host_lacks(engine: FakeDocker) -> None:
    with pytest.raises(RunRefused, match=re.escape(
            "'python:3.11' is not on the Docker host, and this agent's pull policy is 'never'")):
        agent_for(engine, pull_policy="never").launch(
            make_claim({"type": "docker", "image": "python:3.11"}))
    assert engine.containers == {}


def test_an_image_the_registry_does_not_have_fails_the_run_with_dockers_reason(
        engine: FakeDocker) -> None:
    engine.missing.add("acme/missing:1")
    client = RecordingClient("Submitted")
    agent = agent_for(engine, client)
    claim = make_claim({"type": "docker", "image": "acme/missing:1"})
    agent._start(claim)
    assert client.failures == []  # Failed, not Crashed: a retry would fail the same way
    [(_, state, message)] = client.states
    assert state == "Failed"
    assert message == ("image 'acme/missing:1' is not on the Docker host and pulling it"
                       " failed: pull access denied for acme/missing, repository does not"
                       " exist or may require 'docker login'")
    assert not agent.launched


def test_an_image_from_a_registry_outside_the_allow_list_fails_the_run(
        engine: FakeDocker) -> None:
    client = RecordingClient("Submitted")
    agent = agent_for(engine, client, registries=["ghcr.io", "*.dkr.ecr.us-east-1.amazonaws.com"])
    claim = make_claim({"type": "docker", "image": "evil.example.com/miner:latest"})
    agent._start(claim)
    assert client.states == [(claim.flow_run.id, "Failed",
                              "image 'evil.example.com/miner:latest' comes from a registry this"
                              " Docker agent does not allow (it allows ghcr.io,"
                              " *.dkr.ecr.us-east-1.amazonaws.com)")]
    assert engine.pulled == [] and engine.containers == {}


def test_bad_host_config_is_refused_naming_the_field(engine: FakeDocker) -> None:
    with pytest.raises(RunRefused, match=r"DockerRun.host_config: .*memory_limit"):
        agent_for(engine).launch(make_claim(
            {"type": "docker", "image": "python:3.11", "host_config": {"memory_limit": "1g"}}))


def test_a_run_that_reported_its_own_end_is_left_alone(engine: FakeDocker) -> None:
    engine.outcomes["python:3.11"] = Outcome(exit_code=1, logs=["flow failed"])
    client = RecordingClient("Failed")
    agent = agent_for(engine, client, remove=False)
    claim = make_claim({"type": "docker", "image": "python:3.11"})
    watch_until_done(agent, claim, agent.launch(claim))
    assert client.failures == [] and client.logs == []
    assert engine.removed == [] and len(engine.containers) == 1  # kept, as asked


# ---------------------------------------------------------------------- storage
def test_local_storage_needs_its_directory_mounted(engine: FakeDocker, tmp_path: Path) -> None:
    storage = {"type": "local", "location": f"{tmp_path}/etl/a.flow"}
    claim = make_claim({"type": "docker", "image": "python:3.11"}, storage=storage)
    with pytest.raises(RunRefused, match=f"--volume {tmp_path}/etl:{tmp_path}/etl"):
        agent_for(engine).launch(claim)
    with pytest.raises(RunRefused, match="Local storage"):  # mounted elsewhere: not the path
        agent_for(engine, volumes=[f"{tmp_path}:/flows"]).launch(claim)
    agent_for(engine, volumes=[f"{tmp_path}:{tmp_path}"]).launch(claim)
    by_run_config = make_claim({"type": "docker", "image": "python:3.11",
                                "host_config": {"binds": {str(tmp_path): {
                                    "bind": str(tmp_path), "mode": "ro"}}}}, storage=storage)
    agent_for(engine).launch(by_run_config)
    assert len(engine.containers) == 2


@pytest.mark.parametrize(("volumes", "mounts"), [
    (["/srv/flows:/srv/flows"], ["/srv/flows"]),
    (["/srv/flows:/srv/flows:ro"], ["/srv/flows"]),
    (["/srv/flows/:/srv/flows"], ["/srv/flows"]),
    (["/srv/flows:/flows"], []),
    (["cache:/cache"], []),
])
def test_same_path_mounts(volumes: list[str], mounts: list[str]) -> None:
    assert same_path_mounts(volumes) == mounts


def test_docker_labels_keep_the_whole_flow_name() -> None:
    labels = docker_labels({"jupyter-flows.io/flow-run-id": "r1"}, "nightly etl: v2")
    assert labels == {"io.jupyter-flows.flow-run-id": "r1",
                      "io.jupyter-flows.flow-name": "nightly etl: v2"}


# ------------------------------------------------------------------------ CLI
def test_start_without_a_reachable_engine_is_an_error_not_a_traceback() -> None:
    from typer.testing import CliRunner

    from jupyter_flows.cli import app
    from jupyter_flows.server.testing import free_port

    base_url = f"tcp://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(app, ["agent", "docker", "start", "--base-url", base_url])
    assert result.exit_code == 2
    assert f"cannot reach the Docker Engine at {base_url}" in result.output


def test_start_refuses_an_unknown_pull_policy() -> None:
    from typer.testing import CliRunner

    from jupyter_flows.cli import app

    result = CliRunner().invoke(app, ["agent", "docker", "start", "--pull", "sometimes"])
    assert result.exit_code == 2
    assert "pull_policy: expected one of always, if-not-present, never" in result.output
