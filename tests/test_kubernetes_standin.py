"""The Kubernetes stand-in (``fake_kubernetes``) refuses what the real API server refuses,
with the real ``Status`` shapes, through the unchanged ``kubernetes`` client; its Job
controller follows the documented backoffLimit behaviour; and the agent turns a refusal
of the Job it built into a clear Failed message for the run."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fake_claims import RecordingClient, make_claim
from fake_kubernetes import FakeKubernetes, PodScript

from jupyter_flows.agents.kubernetes import KubernetesAgent
from jupyter_flows.agents.kubernetes_install import install_manifests


@pytest.fixture
def api() -> Iterator[FakeKubernetes]:
    with FakeKubernetes(version="1.32") as fake:
        yield fake


def batch(api: FakeKubernetes) -> Any:
    from kubernetes import client

    return client.BatchV1Api(api.client())


def job(name: str, **container: Any) -> dict[str, Any]:
    return {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"backoffLimit": 0, "template": {"spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "flow", "image": "python:3.11", **container}]}}}}


def refusal(call: Any) -> tuple[int, dict[str, Any]]:
    from kubernetes.client import ApiException

    with pytest.raises(ApiException) as raised:
        call()
    return raised.value.status, json.loads(raised.value.body)


# ------------------------------------------------------------ what it refuses
def test_a_name_longer_than_a_job_may_have_is_a_422_with_its_cause(
        api: FakeKubernetes) -> None:
    name = "a" * 64  # a valid subdomain, but a Job's name becomes a 63-character label
    code, body = refusal(lambda: batch(api).create_namespaced_job("flows", job(name)))
    assert code == 422
    assert body == {
        "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": f'Job.batch "{name}" is invalid: metadata.name: Invalid value: "{name}":'
                   " must be no more than 63 characters",
        "reason": "Invalid", "code": 422,
        "details": {"name": name, "group": "batch", "kind": "Job", "causes": [
            {"reason": "FieldValueInvalid", "field": "metadata.name",
             "message": f'Invalid value: "{name}": must be no more than 63 characters'}]}}
    assert api.jobs == {}


def test_every_violation_is_a_cause_with_its_field_path(api: FakeKubernetes) -> None:
    bad = job("Not_A_Name", imagePullPolicy="Sometimes", bogus=1,
              env=[{"name": "1X", "value": "y"}])
    bad["spec"]["template"]["metadata"] = {"labels": {"team": "data science"}}
    del bad["spec"]["template"]["spec"]["restartPolicy"]
    code, body = refusal(lambda: batch(api).create_namespaced_job("flows", bad))
    assert code == 422 and body["reason"] == "Invalid"
    causes = {(c["field"], c["reason"]) for c in body["details"]["causes"]}
    assert causes == {
        ("metadata.name", "FieldValueInvalid"),
        ("spec.template.spec.containers[0].bogus", "FieldValueInvalid"),
        ("spec.template.spec.containers[0].imagePullPolicy", "FieldValueNotSupported"),
        ("spec.template.spec.containers[0].env[0].name", "FieldValueInvalid"),
        ("spec.template.metadata.labels", "FieldValueInvalid"),
        ("spec.template.spec.restartPolicy", "FieldValueRequired"),
    }
    assert body["message"].startswith('Job.batch "Not_A_Name" is invalid: [')
    assert 'unknown field "spec.template.spec.containers[0].bogus"' in body["message"]


def test_a_bad_quantity_is_refused_by_the_decoder_with_400(api: FakeKubernetes) -> None:
    code, body = refusal(lambda: batch(api).create_namespaced_job(
        "flows", job("ok", resources={"limits": {"memory": "4 gigs"}})))
    assert code == 400 and body["reason"] == "BadRequest"
    assert body["message"] == ('Job in version "v1" cannot be handled as a Job: quantities'
                               " must match the regular expression"
                               " '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")


def test_a_duplicate_is_409_already_exists(api: FakeKubernetes) -> None:
    batch(api).create_namespaced_job("flows", job("once"))
    code, body = refusal(lambda: batch(api).create_namespaced_job("flows", job("once")))
    assert code == 409 and body["reason"] == "AlreadyExists"
    assert body["message"] == 'jobs.batch "once" already exists'


def test_a_patch_is_checked_as_the_whole_object(api: FakeKubernetes) -> None:
    api_ = batch(api)
    api_.create_namespaced_job("flows", job("patched"))
    api_.patch_namespaced_job("patched", "flows", {"metadata": {"labels": {"tier": "gold"}}})
    assert api.jobs[("flows", "patched")]["metadata"]["labels"] == {"tier": "gold"}
    code, body = refusal(lambda: api_.patch_namespaced_job(
        "patched", "flows", {"metadata": {"labels": {"tier": "not gold"}}}))
    assert code == 422 and body["details"]["causes"][0]["field"] == "metadata.labels"
    assert api.jobs[("flows", "patched")]["metadata"]["labels"] == {"tier": "gold"}


def test_the_install_manifests_are_accepted_and_a_bad_one_refused(api: FakeKubernetes) -> None:
    from kubernetes import utils

    manifests = install_manifests(namespace="flows", agent_image="acme/agent:1",
                                  backend_url="http://backend:4200", labels=["k8s"])
    for manifest in manifests:
        utils.create_from_dict(api.client(), manifest, namespace="flows")
    assert sorted(kind for kind, _, _ in api.objects) == [
        "Deployment", "Role", "RoleBinding", "ServiceAccount"]
    bad = install_manifests(namespace="flows", agent_image="acme/agent:1",
                            backend_url="http://backend:4200", name="Agent_1")
    with pytest.raises(utils.FailToCreateError) as raised:
        utils.create_from_dict(api.client(), bad[0], namespace="flows")
    [error] = raised.value.api_exceptions
    body = json.loads(error.body)
    assert error.status == 422 and body["details"]["kind"] == "ServiceAccount"
    assert body["details"]["causes"][0]["field"] == "metadata.name"


# ------------------------------------------------------------ the controller
def test_failed_pods_are_replaced_until_the_backoff_limit(api: FakeKubernetes) -> None:
    api.scripts["python:3.11"] = PodScript.exits(1, ["boom"])
    api_ = batch(api)
    body = job("retried")
    body["spec"]["backoffLimit"] = 2
    api_.create_namespaced_job("flows", body)
    core = __import__("kubernetes").client.CoreV1Api(api.client())
    for _ in range(10):
        core.list_namespaced_pod("flows", label_selector="job-name=retried")
    status = json.loads(api_.read_namespaced_job("retried", "flows",
                                                 _preload_content=False).data)["status"]
    assert status["failed"] == 3 and status["active"] == 0  # backoffLimit 2: 3 tries
    assert [c["reason"] for c in status["conditions"]] == ["BackoffLimitExceeded"]
    assert len(api.pods) == 3
    assert all(p.labels["batch.kubernetes.io/job-name"] == "retried" for p in api.pods.values())


def test_an_image_pull_back_off_keeps_the_job_active(api: FakeKubernetes) -> None:
    api.scripts["ghcr.io/acme/missing:1"] = PodScript.image_pull_backoff(
        "ghcr.io/acme/missing:1")
    api_ = batch(api)
    body = job("pulling")
    body["spec"]["template"]["spec"]["containers"][0]["image"] = "ghcr.io/acme/missing:1"
    api_.create_namespaced_job("flows", body)
    core = __import__("kubernetes").client.CoreV1Api(api.client())
    for _ in range(5):
        pods = core.list_namespaced_pod("flows", label_selector="job-name=pulling").items
    assert [p.status.container_statuses[0].state.waiting.reason for p in pods] == [
        "ImagePullBackOff"]
    status = json.loads(api_.read_namespaced_job("pulling", "flows",
                                                 _preload_content=False).data)["status"]
    assert status["active"] == 1 and status["failed"] == 0 and "conditions" not in status


# --------------------------------------------------------------- the agent
@pytest.mark.parametrize(("template_container", "expected"), [
    ({"resources": {"limits": {"memory": "4 gigs"}}},
     "400 Job in version \"v1\" cannot be handled as a Job: quantities must match the"
     " regular expression"),
    ({"env": [{"name": "BAD NAME", "value": "x"}]},
     '.name: Invalid value: "BAD NAME": a valid environment variable name must consist'),
])
def test_the_agent_fails_the_run_with_the_api_servers_refusal(
        api: FakeKubernetes, template_container: dict[str, Any], expected: str) -> None:
    template = {"apiVersion": "batch/v1", "kind": "Job", "spec": {"template": {"spec": {
        "containers": [{"name": "flow", **template_container}]}}}}
    client = RecordingClient("Submitted")
    agent = KubernetesAgent(client, namespace="flows", api_client=api.client(),
                            image="python:3.11", retry_backoff=0.01)
    claim = make_claim({"type": "kubernetes", "job_template": template})
    agent._start(claim)
    [(run_id, state, message)] = client.states
    assert run_id == claim.flow_run.id and state == "Failed"
    name = f"jupyter-flows-{claim.flow_run.id[:12]}-{claim.lease.lease_id[:6]}"
    assert message.startswith(f"Kubernetes refused Job {name} in namespace 'flows': ")
    assert expected in message, message
    assert client.failures == [] and api.jobs == {} and not agent.launched
