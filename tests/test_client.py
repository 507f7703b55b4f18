"""The client against a real uvicorn backend on 127.0.0.1 (with an API key)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time

import pytest
from wire import spec_json

from jupyter_flows.api import FlowSpec
from jupyter_flows.client import BackendError, BackendUnavailable, Client, ConflictError
from jupyter_flows.engine.states import Running, Success
from jupyter_flows.server.testing import free_port, running_server

KEY = "test-key"


@pytest.fixture(scope="module")
def url(tmp_path_factory):
    database = tmp_path_factory.mktemp("backend") / "backend.db"
    with running_server(database, api_key=KEY) as base:
        yield base


@pytest.fixture
def client(url):
    with Client(url, api_key=KEY) as c:
        yield c


def test_a_run_from_registration_to_success(client):
    spec = spec_json("e2e", ("load", "square"), (("load", "square"),), params={"n": False})
    deployment = {"labels": ["local"], "storage": {"type": "Local", "path": "/tmp/x"},
                  "run_config": {"type": "LocalRun", "env": {"DB_PASSWORD": "pw"}}}
    flow = client.register_flow("e2e", spec, **deployment)
    assert flow.is_new and flow.version == 1
    again = client.register_flow("e2e", spec, **deployment)
    assert again.id == flow.id and not again.is_new
    run = client.create_flow_run(flow.id, parameters={"n": 3}, idempotency_key="e2e-1")
    assert client.create_flow_run(flow.id, idempotency_key="e2e-1").id == run.id
    assert run.state == "Scheduled" and run.run_config["env"]["DB_PASSWORD"] == "***"

    agent = client.register_agent("e2e-agent", "local", ["local", "extra"])
    assert client.get_flow_run(run.id).agent_match.matched
    claim = client.claim(agent.id, wait=2)
    assert claim is not None and claim.flow_run.id == run.id
    assert claim.flow_run.run_config["env"]["DB_PASSWORD"] == "pw"
    assert claim.flow.storage == {"type": "Local", "path": "/tmp/x"}
    lease = claim.lease.lease_id

    client.run_heartbeat(run.id, lease)
    running = client.set_flow_run_state(run.id, Running("started"), lease_id=lease,
                                        expected_version=claim.flow_run.version)
    assert (running.state, running.state_message) == ("Running", "started")
    applied = client.set_task_run_states(run.id, [
        {"task_slug": "load", "state": "Success"},
        {"task_slug": "square", "map_index": 0, "state": "Success", "message": "9"},
    ], lease_id=lease)
    assert applied == 2
    assert client.write_logs(run.id, [{"message": "hello", "level": "INFO"},
                                      {"message": "careful", "level": 30,
                                       "task_slug": "load"}]) == 2
    done = client.set_flow_run_state(run.id, "Success", "all good", lease_id=lease)
    assert done.state == "Success" and done.version == 4

    got = client.get_flow_run(run.id)
    assert (got.state, got.run_count, got.agent_name) == ("Success", 1, "e2e-agent")
    assert [s.state for s in client.get_flow_run_states(run.id)] == [
        "Scheduled", "Submitted", "Running", "Success"]
    assert [(t.task_slug, t.map_index, t.message) for t in client.get_task_runs(run.id)] == [
        ("load", None, None), ("square", 0, "9")]
    logs = client.read_logs(run.id)
    assert [(x.level, x.message) for x in logs.items] == [("INFO", "hello"),
                                                          ("WARNING", "careful")]
    assert client.read_logs(run.id, after=logs.next_after).items == []
    page = client.list_flow_runs(flow_id=flow.id, state="Success")
    assert page.total == 1 and page.items[0].id == run.id
    assert client.list_flows(name="e2e").items[0].id == flow.id
    assert client.get_flow(flow.id).spec == FlowSpec.model_validate(spec)
    assert [a.name for a in client.list_agents()] == ["e2e-agent"]
    assert client.agent_heartbeat(agent.id).online
    assert client.health().database == "sqlite"


def test_many_runs_are_created_in_batches_in_order(client):
    # labelled, so that no label-less agent of the other tests claims these runs
    flow = client.register_flow("batched", FlowSpec.model_validate(
        spec_json("batched", params={"i": False})), labels=["batched-only"])
    runs = client.create_flow_runs({"flow_id": flow.id, "parameters": {"i": i},
                                    "idempotency_key": f"i-{i}"} for i in range(1200))
    assert [r.parameters["i"] for r in runs] == list(range(1200))  # two batches, in order
    assert client.list_flow_runs(flow.id, limit=1).total == 1200
    again = client.create_flow_runs([{"flow_id": flow.id, "idempotency_key": "i-7"}])
    assert [r.id for r in again] == [runs[7].id]
    with pytest.raises(BackendError, match=r"runs\[1\]: flow 'batched' has no parameter 'j'"):
        client.create_flow_runs([{"flow_id": flow.id}, {"flow_id": flow.id,
                                                        "parameters": {"j": 1}}])
    assert client.list_flow_runs(flow.id, limit=1).total == 1200


def test_refusals_raise_conflict_error_with_the_reason(client):
    client.register_flow("conflicts", {"tasks": []})
    run = client.create_flow_run(flow_name="conflicts")
    with pytest.raises(ConflictError) as info:
        client.set_flow_run_state(run.id, Success("too early"))
    assert info.value.status == 409
    assert "cannot move a run from Scheduled to Success" in info.value.reason
    cancelled = client.set_flow_run_state(run.id, "Cancelled")
    with pytest.raises(ConflictError, match="Cancelled is a finished state"):
        client.set_flow_run_state(run.id, "Running")
    with pytest.raises(ConflictError, match="not the expected version 1"):
        client.set_flow_run_state(run.id, "Scheduled", expected_version=1)
    assert cancelled.state == "Cancelled"
    with pytest.raises(BackendError) as missing:
        client.get_flow_run("does-not-exist")
    assert missing.value.status == 404 and not isinstance(missing.value, ConflictError)


def test_no_claim_is_none(client):
    agent = client.register_agent("idle-agent", labels=["nothing-matches-this"])
    assert client.claim(agent.id, wait=0) is None


def test_a_wrong_api_key_is_a_backend_error(url):
    with Client(url, api_key="wrong") as c, pytest.raises(BackendError) as info:
        c.list_flows()
    assert info.value.status == 401
    assert Client(url, api_key="wrong").health().status == "ok"  # health needs no key


def test_backend_down_raises_backend_unavailable_naming_the_url():
    url = f"http://127.0.0.1:{free_port()}"
    with Client(url, retries=1, backoff=0.01) as c, pytest.raises(BackendUnavailable) as info:
        c.list_flow_runs()
    message = str(info.value)
    assert url in message and "jupyter-flows server start" in message
    assert info.value.url == url


def test_url_and_key_come_from_the_environment(monkeypatch, url):
    monkeypatch.setenv("JUPYTER_FLOWS_BACKEND_URL", url + "/")
    monkeypatch.setenv("JUPYTER_FLOWS_API_KEY", KEY)
    with Client() as c:
        assert c.url == url
        assert c.list_flows().total >= 0
    monkeypatch.delenv("JUPYTER_FLOWS_BACKEND_URL")
    assert Client().url == "http://127.0.0.1:4200"


def test_connection_errors_are_retried_until_the_backend_is_up(tmp_path):
    port = free_port()
    results: list[object] = []

    def call() -> None:
        with Client(f"http://127.0.0.1:{port}", retries=8, backoff=0.1) as c:
            results.append(c.register_agent("early-bird"))

    caller = threading.Thread(target=call)
    caller.start()
    time.sleep(0.3)  # the first attempts are refused
    with running_server(tmp_path / "late.db", port=port):
        caller.join(timeout=30)
    assert [a.name for a in results] == ["early-bird"]  # type: ignore[attr-defined]


def test_the_client_does_not_import_the_server_stack():
    code = ("import sys, jupyter_flows.client; "
            "print(sorted(m for m in ('fastapi', 'sqlalchemy', 'uvicorn') if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=60)
    assert result.stdout.strip() == "[]"
