"""What the container agents share: environment precedence, labels, image choice and
registries, which storage each platform can read, and the base loop's platform hooks
(``RunRefused`` -> Failed, ``Exit`` reasons, failure logs, cleanup, run config types)."""

from __future__ import annotations

from typing import Any

import pytest
from fake_claims import RecordingClient, make_claim

from jupyter_flows.agents.base import Exit, Launched, RunRefused
from jupyter_flows.agents.containers import (
    ContainerAgent,
    container_env,
    deep_merge,
    image_registry,
    label_value,
    load_document,
    read_document,
    registry_allowed,
)
from jupyter_flows.agents.docker import DockerAgent
from jupyter_flows.agents.ecs import ECSAgent
from jupyter_flows.agents.kubernetes import KubernetesAgent
from jupyter_flows.deploy.compat import check_storage_for_run_config, storage_problem
from jupyter_flows.run_configs import DockerRun, ECSRun, KubernetesRun, LocalRun, UniversalRun

NEEDED = {"JUPYTER_FLOWS_BACKEND_URL": "http://b", "JUPYTER_FLOWS_FLOW_RUN_ID": "r1",
          "JUPYTER_FLOWS_LEASE_ID": "l1"}


# ------------------------------------------------------------------ environment
@pytest.mark.parametrize(("agent_env", "template_env", "run_env", "expected"), [
    pytest.param({}, {}, {}, {"PYTHONUNBUFFERED": "1", "JUPYTER_FLOWS_HEARTBEAT_INTERVAL":
                              "10.00"}, id="defaults"),
    pytest.param({"PYTHONUNBUFFERED": "0", "A": "agent"}, {}, {},
                 {"PYTHONUNBUFFERED": "0", "A": "agent"}, id="agent --env beats defaults"),
    pytest.param({"A": "agent"}, {"A": "template", "B": "template"}, {},
                 {"A": "template", "B": "template"}, id="template beats agent"),
    pytest.param({"A": "agent"}, {"A": "template"}, {"A": "run"}, {"A": "run"},
                 id="run config beats template"),
    pytest.param({}, {}, {"JUPYTER_FLOWS_HEARTBEAT_INTERVAL": "2"},
                 {"JUPYTER_FLOWS_HEARTBEAT_INTERVAL": "2"}, id="run may set the heartbeat"),
    pytest.param({"JUPYTER_FLOWS_BACKEND_URL": "http://elsewhere"},
                 {"JUPYTER_FLOWS_LEASE_ID": "stale"},
                 {"JUPYTER_FLOWS_FLOW_RUN_ID": "other"}, {}, id="what the run needs wins"),
])
def test_environment_precedence(agent_env: dict[str, str], template_env: dict[str, str],
                                run_env: dict[str, str], expected: dict[str, str]) -> None:
    env = container_env(agent_env, run_env, backend_url="http://b", api_key=None,
                        flow_run_id="r1", lease_id="l1", heartbeat_interval=10,
                        template_env=template_env)
    for key, value in {**NEEDED, **expected}.items():
        assert env[key] == value, key
    assert "JUPYTER_FLOWS_API_KEY" not in env


def test_the_agents_api_key_goes_to_the_run_but_not_its_own_environment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENT_HOST_SECRET", "never leaves the agent")
    env = container_env({}, {"JUPYTER_FLOWS_API_KEY": "old"}, backend_url="http://b",
                        api_key="k3y", flow_run_id="r1", lease_id="l1", heartbeat_interval=1)
    assert env["JUPYTER_FLOWS_API_KEY"] == "k3y"
    assert "AGENT_HOST_SECRET" not in env and "PATH" not in env


# ----------------------------------------------------------------------- labels
@pytest.mark.parametrize(("name", "value"), [
    ("etl", "etl"),
    ("nightly etl flow", "nightly-etl-flow"),
    ("Ünïcode/flow:v2", "n-code-flow-v2"),
    ("-leading and trailing-", "leading-and-trailing"),
    ("x" * 80, "x" * 63),
    ("???", "unnamed"),
])
def test_label_values_are_valid_kubernetes_label_values(name: str, value: str) -> None:
    import re

    assert label_value(name) == value
    assert re.fullmatch(r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]", value)


def test_labels_name_the_flow_and_the_run() -> None:
    claim = make_claim({"type": "docker"}, flow_name="nightly etl")
    agent = DockerAgent(RecordingClient(), name="agent one")  # type: ignore[arg-type]
    labels = agent.labels_for(claim)
    assert labels == {"jupyter-flows.io/flow-run-id": claim.flow_run.id,
                      "jupyter-flows.io/flow-id": claim.flow_run.flow_id,
                      "jupyter-flows.io/flow-name": "nightly-etl",
                      "jupyter-flows.io/agent": "agent-one"}


# ----------------------------------------------------------------------- images
@pytest.mark.parametrize(("image", "registry"), [
    ("python:3.11", "docker.io"),
    ("library/python", "docker.io"),
    ("acme/flows:1", "docker.io"),
    ("ghcr.io/acme/flows:1", "ghcr.io"),
    ("localhost/flows", "localhost"),
    ("registry.local:5000/flows@sha256:abc", "registry.local:5000"),
    ("123456789012.dkr.ecr.us-east-1.amazonaws.com/flows:2",
     "123456789012.dkr.ecr.us-east-1.amazonaws.com"),
])
def test_image_registry(image: str, registry: str) -> None:
    assert image_registry(image) == registry


@pytest.mark.parametrize(("image", "allowed", "ok"), [
    ("python:3.11", [], True),
    ("python:3.11", ["docker.io"], True),
    ("python:3.11", ["index.docker.io"], True),
    ("python:3.11", ["ghcr.io"], False),
    ("ghcr.io/acme/flows:1", ["ghcr.io"], True),
    ("ghcr.io/acme/flows:1", ["GHCR.IO/"], True),
    ("evil.io/ghcr.io/flows", ["ghcr.io"], False),
    ("123456789012.dkr.ecr.us-east-1.amazonaws.com/f", ["*.dkr.ecr.us-east-1.amazonaws.com"],
     True),
    ("123456789012.dkr.ecr.eu-west-1.amazonaws.com/f", ["*.dkr.ecr.us-east-1.amazonaws.com"],
     False),
])
def test_registry_allow_list(image: str, allowed: list[str], ok: bool) -> None:
    assert registry_allowed(image, allowed) is ok


@pytest.mark.parametrize(("run_image", "template_image", "agent_image", "expected"), [
    ("run:1", "template:1", "agent:1", "run:1"),
    (None, "template:1", "agent:1", "template:1"),
    (None, None, "agent:1", "agent:1"),
])
def test_image_precedence(run_image: str | None, template_image: str | None,
                          agent_image: str | None, expected: str) -> None:
    agent = ContainerAgent(RecordingClient(), image=agent_image)  # type: ignore[arg-type]
    config: dict[str, Any] = {"type": "kubernetes"}
    if run_image:
        config["image"] = run_image
    assert agent.choose_image(make_claim(config), template_image) == expected


def test_no_image_anywhere_is_refused_naming_both_places() -> None:
    agent = ContainerAgent(RecordingClient())  # type: ignore[arg-type]
    agent.type = "docker"
    with pytest.raises(RunRefused, match=r"set DockerRun.image in its 'docker' run config, or"
                                         r" start the docker agent with --image"):
        agent.choose_image(make_claim({"type": "docker"}), field="DockerRun.image")


# ------------------------------------------------------------------- documents
def test_bad_yaml_is_refused_with_its_position() -> None:
    with pytest.raises(RunRefused, match=r"KubernetesRun.job_template is not valid YAML at"
                                         r" line 3 column 1: expected ',' or ']'"):
        load_document("kind: Job\nspec: [unclosed\n", "KubernetesRun.job_template")


def test_a_missing_template_file_says_the_agent_reads_it(tmp_path: Any) -> None:
    with pytest.raises(RunRefused, match=r"does not exist .*read by the agent"):
        read_document(str(tmp_path / "nope.yaml"), "KubernetesRun.job_template_path")


def test_deep_merge_merges_dicts_and_replaces_the_rest() -> None:
    assert deep_merge({"a": {"x": 1, "y": [1]}, "b": 1},
                      {"a": {"y": [2], "z": 3}, "c": 4}) == {
        "a": {"x": 1, "y": [2], "z": 3}, "b": 1, "c": 4}


# --------------------------------------------------------------------- storage
LOCAL = {"type": "local", "directory": "/srv/flows", "location": "/srv/flows/etl/a.flow"}
S3 = {"type": "s3", "bucket": "flows", "location": "jupyter-flows/etl/a.flow"}


@pytest.mark.parametrize(("storage", "run_config", "refused"), [
    pytest.param(S3, DockerRun(image="python:3.11"), None, id="docker+s3"),
    pytest.param(S3, KubernetesRun(), None, id="kubernetes+s3"),
    pytest.param(S3, ECSRun(), None, id="ecs+s3"),
    pytest.param(LOCAL, LocalRun(), None, id="local+local"),
    pytest.param(LOCAL, UniversalRun(), None, id="universal+local: the agent decides"),
    pytest.param(LOCAL, DockerRun(), None, id="docker+local: depends on the agent's volumes"),
    pytest.param(LOCAL, KubernetesRun(), "a KubernetesRun cannot read", id="kubernetes+local"),
    pytest.param(LOCAL, {"type": "ECSRun"}, "an? ECSRun cannot read", id="ecs+local (dict)"),
    pytest.param({}, ECSRun(), None, id="no storage config"),
    pytest.param({"type": "gcs"}, ECSRun(), None, id="unknown storage: not ours to judge"),
])
def test_storage_for_run_config(storage: dict[str, Any], run_config: Any,
                                refused: str | None) -> None:
    problem = check_storage_for_run_config(storage, run_config)
    if refused is None:
        assert problem is None
    else:
        assert problem is not None
        assert __import__("re").search(refused, problem), problem
        assert "/srv/flows/etl/a.flow" in problem and "S3 storage" in problem


@pytest.mark.parametrize(("mounts", "ok"), [
    ([], False),
    (["/srv/flows"], True),
    (["/srv/flows/"], True),
    (["/srv"], True),
    (["/srv/flow"], False),
    (["/data"], False),
])
def test_local_storage_in_docker_needs_the_directory_mounted(mounts: list[str],
                                                             ok: bool) -> None:
    problem = storage_problem(LOCAL, "docker", mounts=mounts)
    assert (problem is None) is ok
    if not ok:
        assert problem is not None and "--volume /srv/flows/etl:/srv/flows/etl" in problem


# ------------------------------------------------------------ the base loop hooks
class _Handle:
    def __init__(self, result: Any, tail: list[str] | None = None) -> None:
        self.result = result
        self.tail = tail or []
        self.cleaned = False

    def poll(self) -> Any:
        return self.result

    def failure_logs(self) -> list[str]:
        return self.tail

    def cleanup(self) -> None:
        self.cleaned = True


def _agent_with(handle: _Handle, state: str) -> tuple[ContainerAgent, RecordingClient]:
    client = RecordingClient(state)
    agent = ContainerAgent(client)  # type: ignore[arg-type]
    agent.launched["r1"] = Launched("r1", "l1", handle)
    return agent, client


def test_an_exit_reason_is_reported_with_the_last_output_then_cleaned_up() -> None:
    handle = _Handle(Exit(137, "OOMKilled: out of memory"), ["loading", "Killed"])
    agent, client = _agent_with(handle, "Running")
    agent._watch()
    assert client.failures == [{"id": "r1", "exit_code": 137, "message":
                                "OOMKilled: out of memory (while the run was Running)"}]
    assert "loading\nKilled" in client.log_text() and client.logs[0]["level"] == "ERROR"
    assert handle.cleaned and not agent.launched


def test_a_run_that_finished_is_not_reported_but_still_cleaned_up() -> None:
    handle = _Handle(Exit(1, "container exited with code 1"), ["boom"])
    agent, client = _agent_with(handle, "Failed")
    agent._watch()
    assert client.failures == [] and client.logs == [] and handle.cleaned


def test_a_bare_exit_code_still_works_for_subprocess_handles() -> None:
    agent, client = _agent_with(_Handle(-9), "Running")
    agent._watch()
    assert client.failures[0]["exit_code"] == -9
    assert "exited with code -9 while the run was Running" in client.failures[0]["message"]


def test_a_platform_hiccup_while_polling_keeps_watching() -> None:
    class Flaky(_Handle):
        def poll(self) -> Any:
            raise ConnectionError("API server went away")

    agent, client = _agent_with(Flaky(None), "Running")
    agent._watch()
    assert "r1" in agent.launched and client.failures == []


def test_a_refused_launch_fails_the_run_and_a_broken_one_crashes_it() -> None:
    class Agent(ContainerAgent):
        run_config_types = ("docker", "universal")

        def launch(self, claim: Any) -> Any:
            if claim.flow_run.run_config.get("image") == "refused":
                raise RunRefused("image 'refused' comes from a registry this agent refuses")
            raise ConnectionError("Docker Engine unreachable")

    client = RecordingClient()
    agent = Agent(client)  # type: ignore[arg-type]
    refused = make_claim({"type": "docker", "image": "refused"})
    agent._start(refused)
    assert client.states == [(refused.flow_run.id, "Failed", "image 'refused' comes from a"
                              " registry this agent refuses")]
    broken = make_claim({"type": "docker", "image": "ok"})
    agent._start(broken)
    assert "Docker Engine unreachable" in client.failures[0]["message"]
    assert not agent.launched and not agent._launching


@pytest.mark.parametrize(("agent_class", "accepts", "refuses"), [
    (DockerAgent, ["docker", "universal"], "kubernetes"),
    (KubernetesAgent, ["kubernetes", "universal"], "ecs"),
    (ECSAgent, ["ecs", "universal"], "docker"),
])
def test_each_agent_runs_its_own_run_config_and_universal_only(
        agent_class: type[ContainerAgent], accepts: list[str], refuses: str) -> None:
    agent = agent_class.__new__(agent_class)  # only check_run_config is needed
    for kind in accepts:
        assert agent.check_run_config(make_claim({"type": kind})) is None
    message = agent.check_run_config(make_claim({"type": refuses}))
    assert message is not None
    assert agent_class.__name__ in message and repr(refuses) in message
    assert f"runs {', '.join(accepts)}" in message
