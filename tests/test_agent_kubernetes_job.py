"""The Jobs the Kubernetes agent builds, each validated against the official Kubernetes
schema (kubernetes-validate, strict: unknown fields fail), from the default template and
from user templates given as a dict, YAML text, a file path and an fsspec URL; template
merging; the errors for bad templates; and the install manifests."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml
from fake_claims import RecordingClient, make_claim

from jupyter_flows.agents.base import RunRefused
from jupyter_flows.agents.kubernetes import KubernetesAgent
from jupyter_flows.agents.kubernetes_install import install_manifests, install_yaml

SCHEMA_VERSIONS = ["1.32", "1.37"]


def validate(manifest: dict[str, Any]) -> None:
    """Strict validation against the oldest and newest schemas kubernetes-validate has here."""
    import kubernetes_validate

    for version in SCHEMA_VERSIONS:
        kubernetes_validate.validate(manifest, version, strict=True)


def agent(**options: Any) -> KubernetesAgent:
    return KubernetesAgent(RecordingClient(), namespace="flows",  # type: ignore[arg-type]
                           api_client=object(), **options)


def flow_container(job: dict[str, Any], name: str = "flow") -> dict[str, Any]:
    return next(c for c in job["spec"]["template"]["spec"]["containers"] if c["name"] == name)


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


# -------------------------------------------------------------- default template
def test_the_default_job_is_valid_and_carries_the_run() -> None:
    claim = make_claim({"type": "kubernetes", "image": "ghcr.io/acme/flows:1",
                        "env": {"STAGE": "prod"}}, flow_name="nightly etl")
    job = agent(env={"TEAM": "data"}).job_for(claim)
    validate(job)
    run_id = claim.flow_run.id
    assert job["metadata"]["name"] == f"jupyter-flows-{run_id[:12]}-{claim.lease.lease_id[:6]}"
    assert job["metadata"]["namespace"] == "flows"
    assert job["spec"]["backoffLimit"] == 0
    pod = job["spec"]["template"]
    assert pod["spec"]["restartPolicy"] == "Never"
    for labels in (job["metadata"]["labels"], pod["metadata"]["labels"]):
        assert labels["jupyter-flows.io/flow-run-id"] == run_id
        assert labels["jupyter-flows.io/flow-name"] == "nightly-etl"
    assert pod["metadata"]["annotations"]["jupyter-flows.io/flow-name"] == "nightly etl"
    container = flow_container(job)
    assert container["image"] == "ghcr.io/acme/flows:1"
    assert container["args"] == ["python", "-m", "jupyter_flows", "execute", "flow-run", run_id]
    env = env_of(container)
    assert env["STAGE"] == "prod" and env["TEAM"] == "data"
    assert env["JUPYTER_FLOWS_LEASE_ID"] == claim.lease.lease_id
    assert "resources" not in container and "serviceAccountName" not in pod["spec"]


def test_run_config_resources_account_and_pull_settings() -> None:
    claim = make_claim({"type": "kubernetes", "image": "ghcr.io/acme/flows:1",
                        "cpu_request": "500m", "cpu_limit": 2, "memory_request": "512Mi",
                        "memory_limit": "1Gi", "service_account_name": "flow-runner",
                        "image_pull_secrets": ["regcred", "ghcr"],
                        "image_pull_policy": "Always"})
    job = agent().job_for(claim)
    validate(job)
    container = flow_container(job)
    assert container["resources"] == {"requests": {"cpu": "500m", "memory": "512Mi"},
                                      "limits": {"cpu": "2", "memory": "1Gi"}}
    assert container["imagePullPolicy"] == "Always"
    pod_spec = job["spec"]["template"]["spec"]
    assert pod_spec["serviceAccountName"] == "flow-runner"
    assert pod_spec["imagePullSecrets"] == [{"name": "regcred"}, {"name": "ghcr"}]


def test_a_universal_run_gets_the_agents_defaults() -> None:
    claim = make_claim({"type": "universal"})
    job = agent(image="agent/flows:1", service_account_name="agent-runner",
                image_pull_secrets=["agent-cred"]).job_for(claim)
    validate(job)
    assert flow_container(job)["image"] == "agent/flows:1"
    pod_spec = job["spec"]["template"]["spec"]
    assert pod_spec["serviceAccountName"] == "agent-runner"
    assert pod_spec["imagePullSecrets"] == [{"name": "agent-cred"}]


# ---------------------------------------------------------------- user templates
TEMPLATE = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "metadata": {"generateName": "mine-", "labels": {"team": "data"}},
    "spec": {
        "backoffLimit": 6,
        "activeDeadlineSeconds": 3600,
        "template": {
            "metadata": {"labels": {"team": "data"}},
            "spec": {
                "restartPolicy": "OnFailure",
                "serviceAccountName": "template-account",
                "nodeSelector": {"pool": "batch"},
                "containers": [
                    {"name": "proxy", "image": "ghcr.io/acme/proxy:1"},
                    {"name": "flow", "image": "ghcr.io/acme/template:1",
                     "command": ["tini", "--"],
                     "env": [{"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {
                                 "name": "db", "key": "password"}}},
                             {"name": "TEAM", "value": "template"},
                             {"name": "STAGE", "value": "template"},
                             {"name": "JUPYTER_FLOWS_BACKEND_URL", "value": "http://stale"}],
                     "resources": {"limits": {"memory": "2Gi"}}},
                ],
            },
        },
    },
}


def _template_sources(tmp_path: Path) -> dict[str, dict[str, Any]]:
    import fsspec

    text = yaml.safe_dump(TEMPLATE)
    path = tmp_path / "job.yaml"
    path.write_text(text)
    with fsspec.open("memory://templates/job.yaml", "w") as handle:
        handle.write(text)
    return {"dict": {"job_template": TEMPLATE},
            "yaml text": {"job_template": text},
            "file path": {"job_template_path": str(path)},
            "fsspec URL": {"job_template_path": "memory://templates/job.yaml"}}


@pytest.mark.parametrize("source", ["dict", "yaml text", "file path", "fsspec URL"])
def test_a_user_template_is_merged_and_valid(source: str, tmp_path: Path) -> None:
    fields = _template_sources(tmp_path)[source]
    claim = make_claim({"type": "kubernetes", "env": {"STAGE": "run"},
                        "memory_request": "1Gi", **fields})
    job = agent(env={"TEAM": "agent", "DB_PASSWORD": "agent"}, image="agent/flows:1",
                service_account_name="agent-account").job_for(claim)
    validate(job)
    assert "generateName" not in job["metadata"]
    assert job["metadata"]["labels"]["team"] == "data"
    assert job["spec"]["backoffLimit"] == 0 and job["spec"]["activeDeadlineSeconds"] == 3600
    pod = job["spec"]["template"]
    assert pod["metadata"]["labels"]["team"] == "data"
    assert pod["metadata"]["labels"]["jupyter-flows.io/flow-run-id"] == claim.flow_run.id
    assert pod["spec"]["restartPolicy"] == "Never"
    assert pod["spec"]["nodeSelector"] == {"pool": "batch"}
    assert pod["spec"]["serviceAccountName"] == "template-account"  # template > agent
    proxy = flow_container(job, "proxy")
    assert proxy == {"name": "proxy", "image": "ghcr.io/acme/proxy:1"}  # sidecar untouched
    container = flow_container(job)
    assert container["image"] == "ghcr.io/acme/template:1"  # template > agent
    assert container["command"] == ["tini", "--"] and container["args"][:3] == [
        "python", "-m", "jupyter_flows"]
    env = env_of(container)
    assert env["DB_PASSWORD"] == {"secretKeyRef": {"name": "db", "key": "password"}}
    assert env["TEAM"] == "template" and env["STAGE"] == "run"
    assert env["JUPYTER_FLOWS_BACKEND_URL"] == RecordingClient.url
    assert container["resources"] == {"limits": {"memory": "2Gi"},
                                      "requests": {"memory": "1Gi"}}
    assert TEMPLATE["spec"]["backoffLimit"] == 6  # the template itself is not changed


@pytest.mark.parametrize(("template_image", "run_image", "agent_image", "expected"), [
    ("template:1", "run:1", "agent:1", "run:1"),
    ("template:1", None, "agent:1", "template:1"),
    (None, None, "agent:1", "agent:1"),
])
def test_image_precedence_with_a_template(template_image: str | None, run_image: str | None,
                                          agent_image: str, expected: str) -> None:
    container: dict[str, Any] = {"name": "flow"}
    if template_image:
        container["image"] = template_image
    template = {"spec": {"template": {"spec": {"containers": [container]}}}}
    config: dict[str, Any] = {"type": "kubernetes", "job_template": template}
    if run_image:
        config["image"] = run_image
    job = agent(image=agent_image).job_for(make_claim(config))
    validate(job)
    assert flow_container(job)["image"] == expected


def test_the_first_container_runs_the_flow_when_none_is_named_flow() -> None:
    template = {"spec": {"template": {"spec": {"containers": [
        {"name": "main"}, {"name": "sidecar", "image": "side:1"}]}}}}
    job = agent(image="agent:1").job_for(make_claim({"type": "kubernetes",
                                                     "job_template": template}))
    validate(job)
    main = flow_container(job, "main")
    assert main["image"] == "agent:1" and main["args"][-2] == "flow-run"


def test_the_agents_own_template_from_a_file(tmp_path: Path) -> None:
    path = tmp_path / "agent-job.yaml"
    path.write_text(yaml.safe_dump(TEMPLATE))
    job = agent(job_template_path=str(path)).job_for(make_claim({"type": "universal"}))
    validate(job)
    assert job["spec"]["template"]["spec"]["nodeSelector"] == {"pool": "batch"}


BAD_TEMPLATES = [
    pytest.param({"kind": "Job", "spec": {"template": {"spec": {"containers": []}}}},
                 "the Job has no container in spec.template.spec.containers; add one",
                 id="no container"),
    pytest.param({"kind": "Job", "spec": {"template": {"metadata": {}}}},
                 "the Job has no spec.template.spec", id="no pod spec"),
    pytest.param({"kind": "Pod", "spec": {"containers": [{"name": "flow"}]}},
                 "expected kind 'Job', got 'Pod'", id="a Pod"),
    pytest.param({"apiVersion": "batch/v1beta1", "kind": "Job"},
                 "expected apiVersion 'batch/v1', got 'batch/v1beta1'", id="old api"),
    pytest.param("- just\n- a list\n", "expected a Job manifest (a mapping), got list",
                 id="yaml list"),
    pytest.param("kind: Job\nspec: {template: [\n", "is not valid YAML at line",
                 id="broken yaml"),
    pytest.param({"spec": {"template": {"spec": {"containers": [{"image": "x"}]}}}},
                 "spec.template.spec.containers[0] needs a name", id="unnamed container"),
]


@pytest.mark.parametrize(("template", "message"), BAD_TEMPLATES)
def test_bad_templates_are_refused_with_a_message(template: Any, message: str) -> None:
    claim = make_claim({"type": "kubernetes", "image": "x:1", "job_template": template})
    with pytest.raises(RunRefused) as refused:
        agent().job_for(claim)
    assert str(refused.value).startswith("KubernetesRun.job_template")
    assert message in str(refused.value)


def test_a_bad_agent_template_stops_the_agent_from_starting(tmp_path: Path) -> None:
    path = tmp_path / "pod.yaml"
    path.write_text("kind: Pod\n")
    with pytest.raises(RunRefused, match="the agent's job template: expected kind 'Job'"):
        agent(job_template_path=str(path))


def test_a_missing_template_path_is_refused() -> None:
    claim = make_claim({"type": "kubernetes", "image": "x:1",
                        "job_template_path": "/nowhere/job.yaml"})
    with pytest.raises(RunRefused, match=re.escape(
            "KubernetesRun.job_template_path '/nowhere/job.yaml' does not exist")):
        agent().job_for(claim)


# ---------------------------------------------------------------------- install
def test_install_manifests_are_valid_and_grant_what_the_agent_calls() -> None:
    manifests = install_manifests(namespace="flows", agent_image="ghcr.io/acme/agent:1",
                                  image="ghcr.io/acme/flows:1", backend_url="http://jf:4200",
                                  api_key_secret="jf-key", labels=["k8s", "gpu"],
                                  image_pull_secrets=["ghcr"], env={"LOG": "debug"})
    for manifest in manifests:
        validate(manifest)
    kinds = [m["kind"] for m in manifests]
    assert kinds == ["ServiceAccount", "Role", "RoleBinding", "Deployment"]
    rules = {(tuple(r["apiGroups"]), r["resources"][0]): set(r["verbs"])
             for r in manifests[1]["rules"]}
    assert {"create", "get", "delete"} <= rules[(("batch",), "jobs")]
    assert {"list"} <= rules[(("",), "pods")] and rules[(("",), "pods/log")] == {"get"}
    binding = manifests[2]
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "jupyter-flows-agent",
                                    "namespace": "flows"}]
    pod = manifests[3]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "jupyter-flows-agent"
    container = pod["containers"][0]
    assert container["command"] == [
        "jupyter-flows", "agent", "kubernetes", "start", "--namespace", "flows", "--name",
        "jupyter-flows-agent", "--image", "ghcr.io/acme/flows:1", "--label", "k8s",
        "--label", "gpu"]
    env = env_of(container)
    assert env["JUPYTER_FLOWS_BACKEND_URL"] == "http://jf:4200"
    assert env["JUPYTER_FLOWS_API_KEY"] == {"secretKeyRef": {"name": "jf-key",
                                                             "key": "api-key"}}


def test_install_cli_prints_yaml_for_kubectl(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from jupyter_flows.cli import app

    result = CliRunner().invoke(app, ["agent", "kubernetes", "install", "--namespace", "flows",
                                      "--image", "ghcr.io/acme/flows:1", "--backend-url",
                                      "http://jf:4200", "-l", "k8s"])
    assert result.exit_code == 0, result.output
    documents = list(yaml.safe_load_all(result.output))
    assert [d["kind"] for d in documents] == ["ServiceAccount", "Role", "RoleBinding",
                                              "Deployment"]
    assert "&id" not in result.output  # no YAML anchors for kubectl to trip on
    for document in documents:
        validate(document)
    assert result.output == install_yaml(
        namespace="flows", agent_image="ghcr.io/acme/flows:1", image="ghcr.io/acme/flows:1",
        backend_url="http://jf:4200", api_key_secret=None, labels=["k8s"],
        name="jupyter-flows-agent", image_pull_secrets=[], env={})


def test_install_cli_needs_an_image() -> None:
    from typer.testing import CliRunner

    from jupyter_flows.cli import app

    result = CliRunner().invoke(app, ["agent", "kubernetes", "install", "--backend-url",
                                      "http://jf:4200"])
    assert result.exit_code == 2
    assert "install needs --agent-image (or --image)" in textwrap.dedent(result.output)
