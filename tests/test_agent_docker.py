"""The Docker agent through the unchanged docker SDK against a fake Docker Engine on
127.0.0.1 (``fake_docker``): pulling by policy, the container it creates, watching it end
(OOM kill, non-zero exit), removing it; and runs end to end through a real backend, with
the fake engine running the container's command here."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_claims import (
    RecordingClient,
    agent_process,
    make_claim,
    running_agent,
    tiny_flow,
    wait_for,
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


def test_an_image_that_cannot_be_pulled_crashes_the_run_with_dockers_reason(
        engine: FakeDocker) -> None:
    engine.missing.add("acme/missing:1")
    client = RecordingClient("Submitted")
    agent = agent_for(engine, client)
    agent._start(make_claim({"type": "docker", "image": "acme/missing:1"}))
    message = client.failures[0]["message"]
    assert "pulling image 'acme/missing:1' failed: pull access denied for acme/missing" in message
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


# --------------------------------------------------------------------- watching
def test_an_oom_killed_container_crashes_the_run_with_the_reason_and_its_output(
        engine: FakeDocker) -> None:
    engine.outcomes["python:3.11"] = Outcome(exit_code=137, oom_killed=True, polls=2,
                                             logs=["loading 8 GiB", "Killed"])
    client = RecordingClient("Running")
    agent = agent_for(engine, client)
    claim = make_claim({"type": "docker", "image": "python:3.11",
                        "host_config": {"mem_limit": "256m"}})
    handle = agent.launch(claim)
    assert handle.poll() is None  # still running at the first look
    watch_until_done(agent, claim, handle)
    [failure] = client.failures
    assert failure["exit_code"] == 137
    assert failure["message"].startswith("OOMKilled: container ")
    assert "memory limit of 256 MiB" in failure["message"]
    assert "loading 8 GiB\nKilled" in client.log_text()
    assert engine.removed and engine.containers == {}


def test_a_non_zero_exit_crashes_the_run_with_the_code_and_last_line(
        engine: FakeDocker) -> None:
    engine.outcomes["python:3.11"] = Outcome(
        exit_code=1, logs=["Traceback (most recent call last):",
                           "ModuleNotFoundError: No module named 'jupyter_flows'"])
    client = RecordingClient("Submitted")
    agent = agent_for(engine, client)
    claim = make_claim({"type": "docker", "image": "python:3.11"})
    watch_until_done(agent, claim, agent.launch(claim))
    [failure] = client.failures
    assert failure["exit_code"] == 1
    assert failure["message"] == (
        f"container {failure['message'].split()[1]} exited with code 1: ModuleNotFoundError:"
        " No module named 'jupyter_flows' (while the run was Submitted)")


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


# ------------------------------------------------------------------ end to end
@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from jupyter_flows.server.testing import running_server

    with running_server(tmp_path_factory.mktemp("backend") / "backend.db") as url:
        yield url


@pytest.mark.slow
def test_a_docker_run_end_to_end_with_local_storage_on_a_volume(
        engine: FakeDocker, backend: str, tmp_path: Path) -> None:
    """The agent as a real ``jupyter-flows agent docker start`` process."""
    import os

    from jupyter_flows import DockerRun, Local
    from jupyter_flows.client.client import Client

    client = Client(backend)
    engine.outcomes["python:3.11-e2e"] = Outcome(execute=True)
    flows = tmp_path / "flows"
    flow = tiny_flow("docker e2e", storage=Local(directory=str(flows)),
                     run_config=DockerRun(image="python:3.11-e2e", env={"FROM_RUN": "1"},
                                          labels=["docker"]))
    record = flow.register(client=client)
    run = client.create_flow_run(record.id)
    env = {**os.environ, "JUPYTER_FLOWS_BACKEND_URL": backend}
    args = ["docker", "start", "--base-url", engine.base_url, "--volume", f"{flows}:{flows}",
            "--label", "docker", "--env", "FROM_AGENT=1", "--poll-wait", "0.5",
            "--name", "docker-e2e"]
    with agent_process(args, env, tmp_path / "agent.log"):
        final = wait_for(lambda: (r := client.get_flow_run(run.id)).state in
                         {"Success", "Failed", "Crashed"} and r, 60, "the run to end")
        wait_for(lambda: engine.removed, 10, "the container to be removed")
    assert final.state == "Success", (final.state_message, (tmp_path / "agent.log").read_text())
    assert final.agent_name == "docker-e2e"
    [config] = engine.created
    env = env_of(config)
    assert env["FROM_RUN"] == "1" and env["FROM_AGENT"] == "1"
    assert env["JUPYTER_FLOWS_BACKEND_URL"] == backend
    assert config["HostConfig"]["Binds"] == [f"{flows}:{flows}"]
    assert [s.state for s in client.get_flow_run_states(run.id)][:3] == [
        "Scheduled", "Submitted", "Running"]
    assert client.get_task_runs(run.id)[0].state == "Success"


@pytest.mark.slow
def test_an_oom_kill_end_to_end_crashes_the_run_with_the_reason(
        engine: FakeDocker, backend: str) -> None:
    from jupyter_flows import S3, DockerRun
    from jupyter_flows.client.client import Client
    from jupyter_flows.deploy.register import config_json

    client = Client(backend)
    engine.outcomes["python:3.11-oom"] = Outcome(exit_code=137, oom_killed=True, polls=2,
                                                 logs=["Killed"])
    # S3 storage, never read here: the container dies before it loads the flow
    record = client.register_flow(
        "docker oom", {"tasks": []}, storage={**config_json(S3(bucket="b")), "location": "k"},
        run_config=config_json(DockerRun(image="python:3.11-oom",
                                         host_config={"mem_limit": "64m"})))
    run = client.create_flow_run(record.id)
    agent = DockerAgent(Client(backend), base_url=engine.base_url, poll_wait=0.5)
    with running_agent(agent):
        final = wait_for(lambda: (r := client.get_flow_run(run.id)).state == "Crashed" and r,
                         30, "the run to crash")
    assert final.exit_code == 137
    assert "OOMKilled: container" in (final.state_message or "")
    assert "memory limit of 64 MiB" in (final.state_message or "")
    logs = [r.message for r in client.read_logs(run.id).items]
    assert any("Killed" in m for m in logs), logs


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
