"""Restarting a finished, unsuccessful run through the API: the same run goes back to
Scheduled, only what did not succeed with a checkpoint runs again, anything else is 409."""

from __future__ import annotations

import pytest
from wire import spec_json

from jupyter_flows.server.orchestration import transition_problem
from jupyter_flows.server.settings import Settings
from jupyter_flows.server.testing import in_process

# a -> b -> c, and m mapped over a (four children)
SPEC = spec_json("f", tasks=("a", "b", "c", "m"), edges=(("a", "b"), ("b", "c"), ("a", "m")))


@pytest.fixture(params=["sqlite", "postgresql"])
async def api(tmp_path, request):
    url = (f"sqlite:///{tmp_path}/b.db" if request.param == "sqlite"
           else request.getfixturevalue("pg_url"))
    settings = Settings(database_url=url)
    async with in_process(settings) as http:
        flow = (await http.post("/api/flows", json={"name": "f", "spec": SPEC})).json()
        agent = (await http.post("/api/agents", json={"name": "a"})).json()
        yield http, flow, agent


def task_run(slug, state, index=None, location=True):
    where = f"/results/{slug}{'' if index is None else index}" if location else None
    return {"task_slug": slug, "map_index": index, "state": state, "location": where}


FIRST_ATTEMPT = [
    task_run("a", "Success"),
    task_run("b", "Failed", location=False),
    task_run("c", "TriggerFailed", location=False),
    task_run("m", "Mapped", location=False),
    task_run("m", "Success", 0), task_run("m", "Failed", 1, location=False),
    task_run("m", "Success", 2), task_run("m", "Crashed", 3, location=False),
]


async def finished_run(http, flow, agent, final="Failed", task_runs=FIRST_ATTEMPT):
    """A run claimed, run with these task runs, and ended ``final``."""
    run_id = (await http.post("/api/flow_runs", json={"flow_id": flow["id"]})).json()["id"]
    claim = (await http.post(f"/api/agents/{agent['id']}/claim")).json()
    lease = claim["lease"]["lease_id"]
    await http.post(f"/api/flow_runs/{run_id}/state", json={"state": "Running", "lease_id": lease})
    wrote = await http.post(f"/api/flow_runs/{run_id}/task_runs",
                            json={"lease_id": lease, "task_runs": task_runs})
    assert wrote.status_code == 200, wrote.text
    ended = await http.post(f"/api/flow_runs/{run_id}/state",
                            json={"state": final, "message": "task 'b' failed", "lease_id": lease})
    assert ended.status_code == 200, ended.text
    return run_id


async def task_states(http, run_id):
    rows = (await http.get(f"/api/flow_runs/{run_id}/task_runs")).json()
    return {(r["task_slug"], r["map_index"]): (r["state"], r["location"]) for r in rows}


@pytest.mark.anyio
@pytest.mark.parametrize("final", ["Failed", "Crashed", "TimedOut", "TriggerFailed"])
async def test_a_failed_run_is_scheduled_again_keeping_what_succeeded(api, final):
    http, flow, agent = api
    run_id = await finished_run(http, flow, agent, final)
    done = await http.post(f"/api/flow_runs/{run_id[:8]}/restart")
    assert done.status_code == 200, done.text
    run = done.json()
    assert (run["id"], run["state"]) == (run_id, "Scheduled")
    assert run["state_message"] == "restarted (attempt 2): 5 task run(s) to run again, 3 kept"
    history = (await http.get(f"/api/flow_runs/{run_id}/states")).json()
    assert [h["state"] for h in history] == ["Scheduled", "Submitted", "Running", final,
                                             "Scheduled"]
    states = await task_states(http, run_id)
    assert states[("a", None)] == ("Success", "/results/a")
    assert states[("m", 0)] == ("Success", "/results/m0")
    assert states[("m", 2)] == ("Success", "/results/m2")
    for again in [("b", None), ("c", None), ("m", None), ("m", 1), ("m", 3)]:
        assert states[again] == ("Pending", None), again
    rows = (await http.get(f"/api/flow_runs/{run_id}/task_runs")).json()
    assert {r["message"] for r in rows if r["state"] == "Pending"} == {
        "to run again: the flow run was restarted (attempt 2)"}
    # an agent claims it again, as any scheduled run
    claim = await http.post(f"/api/agents/{agent['id']}/claim")
    assert claim.json()["flow_run"]["id"] == run_id
    assert claim.json()["flow_run"]["run_count"] == 2


@pytest.mark.anyio
async def test_a_cancelled_run_can_be_restarted(api):
    http, flow, agent = api
    run_id = await finished_run(http, flow, agent, "Cancelled")
    done = await http.post(f"/api/flow_runs/{run_id}/restart", json={})
    assert done.json()["state"] == "Scheduled"


@pytest.mark.anyio
async def test_a_success_without_a_checkpoint_runs_again(api):
    http, flow, agent = api
    run_id = await finished_run(http, flow, agent, task_runs=[
        task_run("a", "Success", location=False), task_run("b", "Failed", location=False)])
    await http.post(f"/api/flow_runs/{run_id}/restart")
    states = await task_states(http, run_id)
    assert states[("a", None)] == ("Pending", None)


@pytest.mark.anyio
async def test_from_task_runs_it_and_everything_downstream_again(api):
    http, flow, agent = api
    run_id = await finished_run(http, flow, agent, task_runs=[
        task_run("a", "Success"), task_run("b", "Success"), task_run("c", "Failed"),
        task_run("m", "Mapped", location=False), task_run("m", "Success", 0)])
    done = await http.post(f"/api/flow_runs/{run_id}/restart", json={"from_task": "b"})
    assert done.json()["state_message"] == (
        "restarted (attempt 2) from task 'b': 2 task run(s) to run again, 3 kept")
    states = await task_states(http, run_id)
    assert states[("a", None)] == ("Success", "/results/a")
    assert states[("b", None)] == ("Pending", None)
    assert states[("c", None)] == ("Pending", None)
    assert states[("m", 0)] == ("Success", "/results/m0")
    # from the root: everything
    await finished_run_again(http, agent, run_id)
    await http.post(f"/api/flow_runs/{run_id}/restart", json={"from_task": "a"})
    assert {s for s, _ in (await task_states(http, run_id)).values()} == {"Pending"}


async def finished_run_again(http, agent, run_id):
    claim = (await http.post(f"/api/agents/{agent['id']}/claim")).json()
    assert claim["flow_run"]["id"] == run_id
    lease = claim["lease"]["lease_id"]
    await http.post(f"/api/flow_runs/{run_id}/state", json={"state": "Running", "lease_id": lease})
    await http.post(f"/api/flow_runs/{run_id}/state", json={"state": "Failed", "lease_id": lease})


@pytest.mark.anyio
async def test_from_an_unknown_task_is_refused_naming_the_tasks(api):
    http, flow, agent = api
    run_id = await finished_run(http, flow, agent)
    refused = await http.post(f"/api/flow_runs/{run_id}/restart", json={"from_task": "z"})
    assert refused.status_code == 422
    assert refused.json()["detail"] == (
        f"flow run {run_id}: from_task: the flow has no task 'z'; its tasks: a, b, c, m")
    assert (await http.get(f"/api/flow_runs/{run_id}")).json()["state"] == "Failed"


@pytest.mark.anyio
async def test_a_successful_or_unfinished_run_is_refused_naming_its_state(api):
    http, flow, agent = api
    ok = await finished_run(http, flow, agent, "Success", task_runs=[task_run("a", "Success")])
    refused = await http.post(f"/api/flow_runs/{ok}/restart")
    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        f"flow run {ok} is Success: it succeeded: there is nothing to run again (start a new "
        f"run instead); only a Cancelled, Crashed, Failed, TimedOut, TriggerFailed run can be "
        f"restarted")
    scheduled = (await http.post("/api/flow_runs", json={"flow_id": flow["id"]})).json()["id"]
    refused = await http.post(f"/api/flow_runs/{scheduled}/restart")
    assert refused.status_code == 409
    assert refused.json()["detail"].startswith(
        f"flow run {scheduled} is Scheduled: it has not finished (cancel it first")
    missing = await http.post("/api/flow_runs/0123456789abcdef0123456789abcdef/restart")
    assert missing.status_code == 404


def test_the_states_endpoint_still_refuses_failed_to_scheduled_without_retries():
    # a restart is its own endpoint; the retry rule of the states endpoint is unchanged
    assert transition_problem("Failed", "Scheduled", 1, 1) is None
    problem = transition_problem("Failed", "Scheduled", 2, 1)
    assert problem is not None and "no retries left" in problem
    problem = transition_problem("Cancelled", "Scheduled", 1, 5)
    assert problem is not None and "POST /api/flow_runs/{id}/restart restarts it" in problem


@pytest.mark.anyio
async def test_a_restart_gets_the_whole_retry_budget_again(api):
    http, flow, agent = api
    run_id = (await http.post("/api/flow_runs", json={"flow_id": flow["id"],
                                                      "max_retries": 1})).json()["id"]

    async def claim_and_crash():
        claim = (await http.post(f"/api/agents/{agent['id']}/claim")).json()
        assert claim["flow_run"]["id"] == run_id
        lease = claim["lease"]["lease_id"]
        return (await http.post(f"/api/flow_runs/{run_id}/state",
                                json={"state": "Crashed", "lease_id": lease})).json()

    assert (await claim_and_crash())["state"] == "Scheduled"  # retry 1 of 1
    assert (await claim_and_crash())["state"] == "Crashed"  # no retries left
    restarted = (await http.post(f"/api/flow_runs/{run_id}/restart")).json()
    assert restarted["state_message"].startswith("restarted (attempt 3)")
    again = await claim_and_crash()  # the third claim is the restart's first attempt
    assert (again["state"], again["state_message"]) == (
        "Scheduled", "retry 1 of 1 after the run Crashed")
    assert (await claim_and_crash())["state"] == "Crashed"
