"""The Kubernetes agent through the unchanged ``kubernetes`` client against a fake API
server on 127.0.0.1 (``fake_kubernetes``): creating Jobs with retries, reading pod states
and events into the run's failure and logs, deleting finished Jobs; and runs end to end
through a real backend (with S3 storage on moto), the fake running the pod's command here.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from fake_claims import (
    RecordingClient,
    agent_process,
    make_claim,
    running_agent,
    tiny_flow,
    wait_for,
)
from fake_kubernetes import FakeKubernetes, PodScript

from jupyter_flows.agents.base import Exit, Launched, RunRefused
from jupyter_flows.agents.kubernetes import KubernetesAgent, is_transient, with_retries
from jupyter_flows.agents.kubernetes_watch import Pending, job_outcome, pod_outcome

MISSING = "ghcr.io/acme/missing:1"


@pytest.fixture
def api() -> Iterator[FakeKubernetes]:
    with FakeKubernetes() as fake:
        yield fake


def agent_for(api: FakeKubernetes, client: Any = None, **options: Any) -> KubernetesAgent:
    options.setdefault("retry_backoff", 0.01)
    return KubernetesAgent(client or RecordingClient(), namespace="flows",
                           api_client=api.client(), image="python:3.11", **options)


def watch_until_done(agent: KubernetesAgent, claim: Any, rounds: int = 6) -> None:
    handle = agent.launch(claim)
    agent.launched[claim.flow_run.id] = Launched(claim.flow_run.id, claim.lease.lease_id,
                                                 handle)
    for _ in range(rounds):
        agent._watch()
        if not agent.launched:
            return
    raise AssertionError("the Job never ended")


def test_a_job_that_completes_is_deleted_in_the_background(api: FakeKubernetes) -> None:
    client = RecordingClient("Success")
    agent = agent_for(api, client)
    claim = make_claim({"type": "kubernetes"})
    watch_until_done(agent, claim)
    assert client.failures == []
    name = f"jupyter-flows-{claim.flow_run.id[:12]}-{claim.lease.lease_id[:6]}"
    assert api.deleted == [(name, "Background")] and api.jobs == {}
    [create] = api.calls("POST", "/jobs$")
    assert create.body["metadata"]["name"] == name and create.path == \
        "/apis/batch/v1/namespaces/flows/jobs"


def test_image_pull_backoff_crashes_the_run_with_the_event_message(api: FakeKubernetes) -> None:
    api.scripts[MISSING] = PodScript.image_pull_backoff(MISSING)
    client = RecordingClient("Submitted")
    agent = agent_for(api, client)
    watch_until_done(agent, make_claim({"type": "kubernetes", "image": MISSING}))
    [failure] = client.failures
    assert failure["exit_code"] is None
    message = failure["message"]
    assert message.startswith("ImagePullBackOff: pod jupyter-flows-")
    assert f'Back-off pulling image "{MISSING}"' in message
    assert f'Failed to pull image "{MISSING}": rpc error: code = NotFound' in message
    logs = client.log_text()
    assert "ErrImagePull" in logs  # the first look: still pending, said in the logs
    assert f'Failed: Failed to pull image "{MISSING}"' in logs  # the warning events
    assert logs.count("Failed to pull image") == 2  # each event once, then in the pending note
    assert api.jobs == {}


def test_an_oom_killed_pod_reports_the_limit_and_the_pods_last_output(
        api: FakeKubernetes) -> None:
    api.scripts["python:3.11"] = PodScript.oom_killed()
    client = RecordingClient("Running")
    watch_until_done(agent_for(api, client),
                     make_claim({"type": "kubernetes", "memory_limit": "512Mi"}))
    [failure] = client.failures
    assert failure["exit_code"] == 137
    assert "OOMKilled: container flow of pod" in failure["message"]
    assert "used more than its memory limit of 512Mi" in failure["message"]
    assert "loading the table\nallocating 8 GiB" in client.log_text()


def test_a_non_zero_exit_reports_the_code_and_output(api: FakeKubernetes) -> None:
    api.scripts["python:3.11"] = PodScript.exits(3, ["ImportError: no module named pandas"])
    client = RecordingClient("Running")
    watch_until_done(agent_for(api, client), make_claim({"type": "kubernetes"}))
    [failure] = client.failures
    assert failure["exit_code"] == 3
    assert "container flow of pod" in failure["message"] and "exited with code 3" in \
        failure["message"]
    assert "ImportError: no module named pandas" in client.log_text()


def test_crash_loop_back_off_is_a_failure(api: FakeKubernetes) -> None:
    api.scripts["python:3.11"] = PodScript.crash_loop()
    client = RecordingClient("Running")
    watch_until_done(agent_for(api, client), make_claim({"type": "kubernetes"}))
    assert client.failures[0]["message"].startswith("CrashLoopBackOff: pod ")
    assert "Back-off restarting failed container" in client.failures[0]["message"]


def test_an_unschedulable_pod_is_logged_then_fails_after_the_pending_timeout(
        api: FakeKubernetes) -> None:
    api.scripts["python:3.11"] = PodScript.unschedulable()
    client = RecordingClient("Submitted")
    agent = agent_for(api, client, pending_timeout=3600)
    claim = make_claim({"type": "kubernetes"})
    handle = agent.launch(claim)
    assert handle.poll() is None and handle.poll() is None
    assert client.log_text().count("Unschedulable: 0/3 nodes are available") == 1
    agent.pending_timeout = 0
    ended = handle.poll()
    assert isinstance(ended, Exit) and ended.code is None
    assert ended.reason is not None
    assert ended.reason.startswith("Unschedulable: 0/3 nodes are available: 3 Insufficient"
                                   " memory. (the run's pod has not started after")


def test_a_job_deleted_by_someone_else_ends_the_run(api: FakeKubernetes) -> None:
    agent = agent_for(api)
    handle = agent.launch(make_claim({"type": "kubernetes"}))
    api.jobs.clear()
    ended = handle.poll()
    assert ended == Exit(None, f"Job {handle.name} was deleted before its run finished")


def test_a_run_still_cancelling_after_the_grace_has_its_job_deleted(api: FakeKubernetes) -> None:
    client = RecordingClient("Cancelling")
    agent = agent_for(api, client, cancel_grace=2)
    claim = make_claim({"type": "kubernetes"})
    handle = agent.launch(claim)
    launched = Launched(claim.flow_run.id, claim.lease.lease_id, handle, kill_at=0.0)
    agent.launched[claim.flow_run.id] = launched
    agent._watch()  # the grace has passed: the Job goes, and with it the run's pod
    assert (handle.name, "Background") in api.deleted and handle.name not in api.jobs
    for _ in range(3):
        if not agent.launched:
            break
        agent._watch()
    assert not agent.launched
    [failure] = client.failures  # the backend turns it into Cancelled with this message
    assert failure["message"] == (f"killed by the kubernetes agent {agent.name!r}: still "
                                  f"Cancelling after 2 s grace")


def test_each_run_reads_only_its_own_pod_by_label(api: FakeKubernetes) -> None:
    api.scripts["oom:1"] = PodScript.oom_killed()
    api.scripts["ok:1"] = PodScript.succeeds()
    agent = agent_for(api)
    oom = agent.launch(make_claim({"type": "kubernetes", "image": "oom:1"}))
    ok = agent.launch(make_claim({"type": "kubernetes", "image": "ok:1"}))
    for _ in range(2):
        oom_end, ok_end = oom.poll(), ok.poll()
    assert oom_end is not None and oom_end.code == 137
    assert ok_end == Exit(0)
    selectors = {r.param("labelSelector") for r in api.calls("GET", "/pods$")}
    assert selectors == {f"jupyter-flows.io/flow-run-id={oom.flow_run_id}",
                         f"jupyter-flows.io/flow-run-id={ok.flow_run_id}"}


# ----------------------------------------------------------------- creating Jobs
def test_transient_errors_are_retried(api: FakeKubernetes) -> None:
    api.fail_next = [("POST", "/jobs$", 500), ("POST", "/jobs$", 429),
                     ("GET", "/pods$", 503)]
    agent = agent_for(api)
    handle = agent.launch(make_claim({"type": "kubernetes"}))
    assert len(api.calls("POST", "/jobs$")) == 3 and len(api.jobs) == 1
    assert handle.poll() is None  # the 503 on listing pods was retried too
    assert api.fail_next == []


def test_a_create_whose_answer_was_lost_takes_the_job_it_made(api: FakeKubernetes) -> None:
    agent = agent_for(api)
    claim = make_claim({"type": "kubernetes"})
    job = agent.job_for(claim)
    api.add_job("flows", job)  # the lost attempt
    handle = agent.launch(claim)
    assert handle.name == job["metadata"]["name"] and len(api.jobs) == 1


def test_a_name_clash_with_another_runs_job_is_not_taken(api: FakeKubernetes) -> None:
    agent = agent_for(api)
    claim = make_claim({"type": "kubernetes"})
    job = agent.job_for(claim)
    other = {**job, "metadata": {**job["metadata"], "labels": {}}}
    api.add_job("flows", other)
    with pytest.raises(RuntimeError, match="already exists"):
        agent.launch(claim)


def test_errors_that_retrying_cannot_fix_fail_the_run(api: FakeKubernetes) -> None:
    api.fail_next = [("POST", "/jobs$", 403)]
    client = RecordingClient("Submitted")
    agent = agent_for(api, client)
    claim = make_claim({"type": "kubernetes"})
    agent._start(claim)
    [(_, state, message)] = client.states
    assert state == "Failed" and "Kubernetes refused Job jupyter-flows-" in message
    assert "in namespace 'flows': 403 injected 403" in message
    assert len(api.calls("POST", "/jobs$")) == 1


def test_a_bad_template_fails_the_run_without_calling_the_api(api: FakeKubernetes) -> None:
    client = RecordingClient("Submitted")
    agent = agent_for(api, client)
    agent._start(make_claim({"type": "kubernetes", "job_template": {"kind": "Job", "spec": {
        "template": {"spec": {"containers": []}}}}}))
    assert client.states[0][1] == "Failed"
    assert "the Job has no container" in str(client.states[0][2])
    assert api.requests == []


def test_local_storage_is_refused_for_a_job(api: FakeKubernetes) -> None:
    storage = {"type": "local", "location": "/home/me/flows/etl.flow"}
    with pytest.raises(RunRefused, match="a KubernetesRun cannot read"):
        agent_for(api).launch(make_claim({"type": "kubernetes"}, storage=storage))


@pytest.mark.parametrize(("status", "transient"), [
    (500, True), (503, True), (429, True), (400, False), (404, False), (409, False),
    (422, False),
])
def test_which_api_errors_are_transient(status: int, transient: bool) -> None:
    from kubernetes.client import ApiException

    assert is_transient(ApiException(status=status)) is transient


def test_retries_give_up_after_the_attempts() -> None:
    from kubernetes.client import ApiException

    calls: list[int] = []
    delays: list[float] = []

    def failing() -> None:
        calls.append(1)
        raise ApiException(status=502)

    with pytest.raises(ApiException):
        with_retries(failing, what="x", attempts=3, backoff=0.5, sleep=delays.append)
    assert len(calls) == 3 and delays == [0.5, 1.0]


# -------------------------------------------------------------- state mapping
@pytest.mark.parametrize(("status", "expected"), [
    ({"phase": "Pending"}, Pending("the pod is starting")),
    ({"phase": "Running", "containerStatuses": [
        {"name": "flow", "state": {"running": {}}}]}, None),
    ({"phase": "Succeeded"}, Exit(0)),
    ({"phase": "Failed", "reason": "Evicted", "message": "The node was low on memory."},
     Exit(None, "Evicted: pod p: The node was low on memory.")),
    ({"containerStatuses": [{"name": "flow", "state": {"waiting": {
        "reason": "ErrImagePull", "message": "not found"}}}]}, Pending("ErrImagePull: not found")),
    ({"containerStatuses": [{"name": "flow", "state": {"waiting": {
        "reason": "CreateContainerConfigError", "message": 'secret "db" not found'}}}]},
     Exit(None, 'CreateContainerConfigError: pod p could not start its container: secret "db"'
                ' not found')),
    ({"containerStatuses": [
        {"name": "sidecar", "state": {"terminated": {"exitCode": 0}}},
        {"name": "flow", "state": {"terminated": {"exitCode": 2, "reason": "Error"}}}]},
     Exit(2, "container flow of pod p exited with code 2")),
])
def test_pod_states(status: dict[str, Any], expected: Any) -> None:
    assert pod_outcome({"metadata": {"name": "p"}, "status": status}, []) == expected


def test_a_failed_job_condition_without_pods() -> None:
    job = {"status": {"conditions": [{"type": "Failed", "status": "True",
                                      "reason": "DeadlineExceeded",
                                      "message": "Job was active longer than specified"}]}}
    assert job_outcome(job, []) == Exit(None, "DeadlineExceeded: the Job failed: Job was active"
                                              " longer than specified")


# ------------------------------------------------------------------- end to end
@pytest.fixture(scope="module")
def moto() -> Iterator[str]:
    from fake_aws import moto_server

    with moto_server() as url:
        yield url


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from jupyter_flows.server.testing import running_server

    with running_server(tmp_path_factory.mktemp("backend") / "backend.db") as url:
        yield url


def kubeconfig(api: FakeKubernetes, path: Path) -> Path:
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "fake",
        "clusters": [{"name": "fake", "cluster": {"server": api.url}}],
        "users": [{"name": "me", "user": {"token": "t0ken"}}],
        "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "me"}}]}))
    return path


@pytest.mark.slow
def test_a_kubernetes_run_end_to_end_with_s3_storage(
        api: FakeKubernetes, backend: str, moto: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """The agent as a real ``jupyter-flows agent kubernetes start`` process, reading a
    kubeconfig; the pod runs here with this machine's Python, reading the flow from S3."""
    import os

    from fake_aws import CREDENTIALS, boto, client_options

    from jupyter_flows import S3, KubernetesRun
    from jupyter_flows.client.client import Client

    for key, value in CREDENTIALS.items():  # to register here, and in the pods it starts
        monkeypatch.setenv(key, value)
    boto("s3", moto).create_bucket(Bucket="k8s-flows")
    api.scripts["ghcr.io/acme/flows:1"] = PodScript.executes()
    client = Client(backend)
    flow = tiny_flow("k8s e2e", storage=S3(bucket="k8s-flows",
                                           client_options=client_options(moto)),
                     run_config=KubernetesRun(image="ghcr.io/acme/flows:1",
                                              memory_limit="1Gi", labels=["k8s"]))
    record = flow.register(client=client)
    run = client.create_flow_run(record.id)
    env = {**os.environ, "JUPYTER_FLOWS_BACKEND_URL": backend}
    env.pop("KUBERNETES_SERVICE_HOST", None)
    args = ["kubernetes", "start", "--namespace", "flows", "--kubeconfig",
            str(kubeconfig(api, tmp_path / "kubeconfig")), "--label", "k8s",
            "--poll-wait", "0.5", "--name", "k8s-e2e"]
    with agent_process(args, env, tmp_path / "agent.log"):
        final = wait_for(lambda: (r := client.get_flow_run(run.id)).state in
                         {"Success", "Failed", "Crashed"} and r, 60, "the run to end")
        wait_for(lambda: api.deleted, 10, "the Job to be deleted")
    assert final.state == "Success", (final.state_message, (tmp_path / "agent.log").read_text())
    assert client.get_task_runs(run.id)[0].state == "Success"
    assert final.agent_name == "k8s-e2e"
    [create] = api.calls("POST", "/jobs$")
    container = create.body["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"] == {"limits": {"memory": "1Gi"}}


@pytest.mark.slow
def test_image_pull_backoff_end_to_end_crashes_the_run_with_the_event(
        api: FakeKubernetes, backend: str) -> None:
    from jupyter_flows import S3, KubernetesRun
    from jupyter_flows.client.client import Client
    from jupyter_flows.deploy.register import config_json

    api.scripts[MISSING] = PodScript.image_pull_backoff(MISSING)
    client = Client(backend)
    record = client.register_flow(
        "k8s pull", {"tasks": []}, storage={**config_json(S3(bucket="b")), "location": "k"},
        run_config=config_json(KubernetesRun(image=MISSING)))
    run = client.create_flow_run(record.id)
    agent = KubernetesAgent(Client(backend), namespace="flows", api_client=api.client(),
                            poll_wait=0.3)
    with running_agent(agent):
        final = wait_for(lambda: (r := client.get_flow_run(run.id)).state == "Crashed" and r,
                         30, "the run to crash")
    message = final.state_message or ""
    assert "ImagePullBackOff" in message
    assert f'Failed to pull image "{MISSING}": rpc error: code = NotFound' in message
    logs = [r.message for r in client.read_logs(run.id).items]
    assert any("[kubernetes agent] pod/" in m and "Failed to pull image" in m for m in logs)


def test_start_without_a_kubeconfig_is_an_error_not_a_traceback(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from jupyter_flows.cli import app

    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    result = CliRunner().invoke(app, ["agent", "kubernetes", "start", "--kubeconfig",
                                      str(tmp_path / "missing")])
    assert result.exit_code == 2
    assert "cannot configure the Kubernetes client" in result.output
