"""Cancelling a flow run through the API: Scheduled -> Cancelled, claimed -> Cancelling ->
Cancelled (by its process, its agent's kill or the lease sweeper), finished -> 409."""

from __future__ import annotations

import time

import anyio
import pytest
from wire import spec_json

from jupyter_flows.server.settings import Settings
from jupyter_flows.server.testing import in_process


@pytest.fixture
async def api(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path}/b.db")
    async with in_process(settings) as http:
        flow = (await http.post("/api/flows", json={"name": "f", "spec": spec_json()})).json()
        agent = (await http.post("/api/agents", json={"name": "a"})).json()
        yield http, flow, agent


async def new_run(http, flow):
    return (await http.post("/api/flow_runs", json={"flow_id": flow["id"]})).json()["id"]


async def claimed_running(http, flow, agent):
    run_id = await new_run(http, flow)
    claim = (await http.post(f"/api/agents/{agent['id']}/claim")).json()
    lease = claim["lease"]["lease_id"]
    ok = await http.post(f"/api/flow_runs/{run_id}/state",
                         json={"state": "Running", "lease_id": lease})
    assert ok.status_code == 200
    return run_id, lease


async def states(http, run_id):
    return [h["state"] for h in (await http.get(f"/api/flow_runs/{run_id}/states")).json()]


@pytest.mark.anyio
async def test_a_scheduled_run_is_cancelled_at_once(api):
    http, flow, _ = api
    run_id = await new_run(http, flow)
    done = await http.post(f"/api/flow_runs/{run_id[:8]}/cancel", json={"message": "not today"})
    assert done.status_code == 200
    assert (done.json()["state"], done.json()["state_message"]) == ("Cancelled", "not today")
    assert await states(http, run_id) == ["Scheduled", "Cancelled"]
    # and without a body
    other = await new_run(http, flow)
    plain = await http.post(f"/api/flow_runs/{other}/cancel")
    assert plain.json()["state"] == "Cancelled"
    assert plain.json()["state_message"] == "cancelled before it started"


@pytest.mark.anyio
async def test_a_running_run_goes_cancelling_keeps_its_lease_and_its_process_ends_it(api):
    http, flow, agent = api
    run_id, lease = await claimed_running(http, flow, agent)
    await http.post(f"/api/flow_runs/{run_id}/task_runs", json={"lease_id": lease, "task_runs": [
        {"task_slug": "a", "state": "Success"}, {"task_slug": "b", "state": "Running"}]})
    asked = await http.post(f"/api/flow_runs/{run_id}/cancel")
    assert asked.status_code == 200
    assert (asked.json()["state"], asked.json()["state_message"]) == (
        "Cancelling", "cancel requested")
    assert asked.json()["lease_expires_at"] is not None
    again = await http.post(f"/api/flow_runs/{run_id}/cancel")  # asking twice changes nothing
    assert again.status_code == 200 and again.json()["version"] == asked.json()["version"]
    beat = await http.post(f"/api/flow_runs/{run_id}/heartbeat", json={"lease_id": lease})
    assert beat.json()["state"] == "Cancelling"  # how a heartbeat learns of the cancel
    # the process still reports its task runs, then ends the run
    wrote = await http.post(f"/api/flow_runs/{run_id}/task_runs", json={
        "lease_id": lease, "task_runs": [{"task_slug": "c", "state": "Pending"}]})
    assert wrote.status_code == 200
    end = await http.post(f"/api/flow_runs/{run_id}/state", json={
        "state": "Cancelled", "message": "cancelled", "lease_id": lease})
    assert end.status_code == 200 and end.json()["state"] == "Cancelled"
    assert await states(http, run_id) == [
        "Scheduled", "Submitted", "Running", "Cancelling", "Cancelled"]
    rows = (await http.get(f"/api/flow_runs/{run_id}/task_runs")).json()
    tasks = {t["task_slug"]: t for t in rows}
    assert tasks["a"]["state"] == "Success"  # what finished keeps its state
    for slug, was in (("b", "Running"), ("c", "Pending")):
        assert tasks[slug]["state"] == "Cancelled"
        assert tasks[slug]["message"] == f"the flow run was cancelled while this task run was {was}"
    events = (await http.get(f"/api/flow_runs/{run_id}/events")).json()["items"]
    assert [(e["task_slug"], e["state"]) for e in events if e["kind"] == "task_run_state"][-2:] \
        == [("b", "Cancelled"), ("c", "Cancelled")]


@pytest.mark.anyio
async def test_a_finished_run_answers_409_saying_so(api):
    http, flow, agent = api
    run_id, lease = await claimed_running(http, flow, agent)
    await http.post(f"/api/flow_runs/{run_id}/state",
                    json={"state": "Success", "message": "all done", "lease_id": lease})
    refused = await http.post(f"/api/flow_runs/{run_id}/cancel")
    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        f"flow run {run_id} is already Success (all done): a finished run cannot be cancelled")
    by_state = await http.post(f"/api/flow_runs/{run_id}/state", json={"state": "Cancelled"})
    assert by_state.status_code == 409
    assert "Success is a finished state" in by_state.json()["detail"]
    missing = await http.post("/api/flow_runs/0123456789abcdef0123456789abcdef/cancel")
    assert missing.status_code == 404


@pytest.mark.anyio
async def test_a_killed_cancelling_run_is_cancelled_not_crashed_nor_retried(api):
    http, flow, agent = api
    run_id = (await http.post("/api/flow_runs", json={"flow_id": flow["id"], "max_retries": 2})
              ).json()["id"]
    claim = (await http.post(f"/api/agents/{agent['id']}/claim")).json()
    lease = claim["lease"]["lease_id"]
    await http.post(f"/api/flow_runs/{run_id}/cancel")  # Submitted -> Cancelling
    killed = await http.post(f"/api/flow_runs/{run_id}/infrastructure_failure", json={
        "lease_id": lease, "exit_code": -9, "message": "killed by agent a after 2 s grace"})
    assert killed.status_code == 200
    assert (killed.json()["state"], killed.json()["state_message"]) == (
        "Cancelled", "killed by agent a after 2 s grace")
    assert await states(http, run_id) == ["Scheduled", "Submitted", "Cancelling", "Cancelled"]


@pytest.mark.anyio
async def test_the_sweeper_cancels_a_cancelling_run_whose_lease_expired(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path}/b.db", lease_timeout=1.0,
                        sweep_interval=0.2)
    async with in_process(settings) as http:
        flow = (await http.post("/api/flows", json={"name": "f", "spec": spec_json()})).json()
        agent = (await http.post("/api/agents", json={"name": "a"})).json()
        run_id = (await http.post("/api/flow_runs", json={"flow_id": flow["id"],
                                                          "max_retries": 3})).json()["id"]
        claim = (await http.post(f"/api/agents/{agent['id']}/claim")).json()
        await http.post(f"/api/flow_runs/{run_id}/state",
                        json={"state": "Running", "lease_id": claim["lease"]["lease_id"]})
        await http.post(f"/api/flow_runs/{run_id}/cancel")
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            run = (await http.get(f"/api/flow_runs/{run_id}")).json()
            if run["state"] != "Cancelling":
                break
            await anyio.sleep(0.1)
        assert run["state"] == "Cancelled"  # not Crashed, and not retried
        assert run["state_message"].startswith("cancelled: flow run lost: last heartbeat at")


async def run_of(http, run_id):
    return (await http.get(f"/api/flow_runs/{run_id}")).json()


@pytest.mark.anyio
async def test_cancelling_a_parent_cancels_its_unfinished_children_and_theirs(api):
    http, flow, agent = api
    parent, _ = await claimed_running(http, flow, agent)

    async def child_of(parent_id):
        made = await http.post("/api/flow_runs", json={"flow_id": flow["id"],
                                                       "parent_flow_run_id": parent_id})
        return made.json()["id"]

    running_child = await child_of(parent)
    claim = (await http.post(f"/api/agents/{agent['id']}/claim")).json()
    assert claim["flow_run"]["id"] == running_child
    await http.post(f"/api/flow_runs/{running_child}/state",
                    json={"state": "Running", "lease_id": claim["lease"]["lease_id"]})
    waiting_child = await child_of(parent)
    grandchild = await child_of(waiting_child)
    finished_child = await child_of(parent)
    await http.post(f"/api/flow_runs/{finished_child}/cancel")  # finished before the parent's
    unrelated = await new_run(http, flow)

    done = await http.post(f"/api/flow_runs/{parent}/cancel")
    assert done.json()["state"] == "Cancelling"
    because = f"cancelled with its parent flow run {parent}"
    assert (await run_of(http, running_child))["state"] == "Cancelling"  # its process stops it
    assert (await run_of(http, running_child))["state_message"] == because
    assert (await run_of(http, waiting_child))["state"] == "Cancelled"
    assert (await run_of(http, waiting_child))["state_message"] == because
    assert (await run_of(http, grandchild))["state_message"] == (
        f"cancelled with its parent flow run {waiting_child}")
    assert await states(http, finished_child) == ["Scheduled", "Cancelled"]  # once only
    assert (await run_of(http, unrelated))["state"] == "Scheduled"
