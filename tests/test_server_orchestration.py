"""The state rules: the transition table, optimistic versions and leases."""

from __future__ import annotations

import pytest
from wire import spec_json

from jupyter_flows.api import STATE_NAMES
from jupyter_flows.engine.states import ALL_STATES
from jupyter_flows.server.orchestration import ALLOWED, FINISHED, transition_problem
from jupyter_flows.server.settings import Settings
from jupyter_flows.server.testing import in_process

# (from, to, allowed?) -- the rules, spelled out case by case
TABLE = [
    ("Scheduled", "Submitted", False),  # only by a claim
    ("Scheduled", "Paused", True),
    ("Scheduled", "Scheduled", True),
    ("Scheduled", "Cancelled", True),
    ("Scheduled", "Running", False),
    ("Scheduled", "Success", False),
    ("Pending", "Scheduled", True),
    ("Paused", "Scheduled", True),
    ("Paused", "Submitted", False),
    ("Submitted", "Running", True),
    ("Submitted", "Scheduled", True),
    ("Submitted", "Crashed", True),
    ("Submitted", "Success", False),
    ("Running", "Success", True),
    ("Running", "Failed", True),
    ("Running", "TimedOut", True),
    ("Running", "Crashed", True),
    ("Running", "Cancelled", True),  # with the lease: the run's process ends it so
    ("Running", "Cancelling", True),
    ("Submitted", "Cancelling", True),
    ("Scheduled", "Cancelling", False),  # nothing runs it: a cancel makes it Cancelled
    ("Cancelling", "Cancelled", True),
    ("Cancelling", "Success", True),  # finished before the cancel reached it
    ("Cancelling", "Running", False),
    ("Cancelling", "Scheduled", False),
    ("Cancelled", "Cancelling", False),
    ("Running", "Skipped", True),
    ("Running", "Running", False),
    ("Running", "Scheduled", False),
    ("Running", "Submitted", False),
    ("Pending", "Submitted", False),
    ("Running", "Pending", False),
    ("Success", "Running", False),
    ("Success", "Scheduled", False),
    ("Cancelled", "Scheduled", False),
    ("Cancelled", "Running", False),
    ("Skipped", "Failed", False),
    ("Failed", "Running", False),
    ("Crashed", "Submitted", False),
]


@pytest.mark.parametrize(("current", "new", "allowed"), TABLE)
def test_transition_table(current, new, allowed):
    problem = transition_problem(current, new, run_count=1, max_retries=0)
    assert (problem is None) == allowed
    if problem:
        assert current in problem and new in problem


@pytest.mark.parametrize("failed", ["Failed", "Crashed", "TimedOut", "TriggerFailed"])
def test_retry_rule_lets_failed_runs_with_retries_left_go_back_to_scheduled(failed):
    assert transition_problem(failed, "Scheduled", run_count=1, max_retries=1) is None
    refused = transition_problem(failed, "Scheduled", run_count=2, max_retries=1)
    assert refused is not None and "no retries left" in refused


def test_submitted_is_reached_only_by_a_claim():
    problem = transition_problem("Scheduled", "Submitted", run_count=0, max_retries=0)
    assert problem is not None and "only a claim by an agent" in problem
    assert "Submitted" in ALLOWED["Scheduled"]  # the table still shows the claim's step


def test_cancelled_is_allowed_from_every_unfinished_state_and_finished_is_terminal():
    for state in STATE_NAMES:
        if state in FINISHED:
            assert ALLOWED[state] == frozenset()
        else:
            assert "Cancelled" in ALLOWED[state], state
    assert set(ALLOWED) == set(STATE_NAMES) and set(STATE_NAMES) < set(ALL_STATES)


# ------------------------------------------------------------------ through the API
@pytest.fixture
async def api(tmp_path):
    async with in_process(Settings(database_url=f"sqlite:///{tmp_path}/b.db")) as http:
        flow = (await http.post("/api/flows", json={"name": "f", "spec": spec_json()})).json()
        agent = (await http.post("/api/agents", json={"name": "a"})).json()
        yield http, flow, agent


async def new_claimed_run(http, flow, agent, **fields):
    run = (await http.post("/api/flow_runs", json={"flow_id": flow["id"], **fields})).json()
    claim = (await http.post(f"/api/agents/{agent['id']}/claim")).json()
    assert claim["flow_run"]["id"] == run["id"]
    return run["id"], claim["lease"]["lease_id"]


async def set_state(http, run_id, state, **fields):
    return await http.post(f"/api/flow_runs/{run_id}/state", json={"state": state, **fields})


@pytest.mark.anyio
async def test_a_refused_transition_is_409_naming_both_states(api):
    http, flow, agent = api
    run_id, lease = await new_claimed_run(http, flow, agent)
    refused = await set_state(http, run_id, "Success", lease_id=lease)
    assert refused.status_code == 409
    assert refused.json()["detail"] == (
        f"flow run {run_id}: cannot move a run from Submitted to Success: Submitted may only "
        f"move to Cancelled, Cancelling, Crashed, Failed, Running, Scheduled")
    assert (await set_state(http, run_id, "Running", lease_id=lease)).status_code == 200
    done = await set_state(http, run_id, "Success", message="ok", lease_id=lease)
    assert done.status_code == 200 and done.json()["state"] == "Success"
    assert done.json()["lease_expires_at"] is None
    again = await set_state(http, run_id, "Running")
    assert again.status_code == 409 and "Success is a finished state" in again.json()["detail"]
    history = (await http.get(f"/api/flow_runs/{run_id}/states")).json()
    assert [(h["state"], h["version"]) for h in history] == [
        ("Scheduled", 1), ("Submitted", 2), ("Running", 3), ("Success", 4)]
    assert history[-1]["message"] == "ok"


@pytest.mark.anyio
async def test_expected_version_mismatch_is_409(api):
    http, flow, agent = api
    run_id, lease = await new_claimed_run(http, flow, agent)
    stale = await set_state(http, run_id, "Running", lease_id=lease, expected_version=1)
    assert stale.status_code == 409
    assert "at version 2 (Submitted), not the expected version 1" in stale.json()["detail"]
    ok = await set_state(http, run_id, "Running", lease_id=lease, expected_version=2)
    assert ok.status_code == 200 and ok.json()["version"] == 3


@pytest.mark.anyio
async def test_writes_to_a_claimed_run_need_its_lease(api):
    http, flow, agent = api
    run_id, lease = await new_claimed_run(http, flow, agent)
    without = await set_state(http, run_id, "Running")
    assert without.status_code == 409 and "must carry its lease_id" in without.json()["detail"]
    wrong = await set_state(http, run_id, "Running", lease_id="0" * 32)
    assert wrong.status_code == 409
    assert f"lease {'0' * 32} is no longer valid" in wrong.json()["detail"]
    # a person may cancel a run they do not hold: it is Cancelling until its process ends
    cancelled = await set_state(http, run_id, "Cancelled", message="stop")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "Cancelling"
    late = await set_state(http, run_id, "Running", lease_id=lease)
    assert late.status_code == 409
    assert "cannot move a run from Cancelling to Running" in late.json()["detail"]
    beat = await http.post(f"/api/flow_runs/{run_id}/heartbeat", json={"lease_id": lease})
    assert beat.status_code == 200 and beat.json()["state"] == "Cancelling"
    done = await set_state(http, run_id, "Cancelled", message="stopped", lease_id=lease)
    assert done.status_code == 200 and done.json()["state"] == "Cancelled"
    beat = await http.post(f"/api/flow_runs/{run_id}/heartbeat", json={"lease_id": lease})
    assert beat.status_code == 409 and "Cancelled" in beat.json()["detail"]


@pytest.mark.anyio
async def test_failed_run_goes_back_to_scheduled_only_with_retries_left(api):
    http, flow, agent = api
    run_id, lease = await new_claimed_run(http, flow, agent, max_retries=1)
    await set_state(http, run_id, "Running", lease_id=lease)
    assert (await set_state(http, run_id, "Failed", lease_id=lease)).status_code == 200
    retried = await set_state(http, run_id, "Scheduled", message="retry")
    assert retried.status_code == 200
    claim = (await http.post(f"/api/agents/{agent['id']}/claim")).json()
    assert claim["flow_run"]["run_count"] == 2
    lease = claim["lease"]["lease_id"]
    await set_state(http, run_id, "Running", lease_id=lease)
    await set_state(http, run_id, "Failed", lease_id=lease)
    refused = await set_state(http, run_id, "Scheduled")
    assert refused.status_code == 409 and "no retries left" in refused.json()["detail"]


@pytest.mark.anyio
async def test_reported_crash_is_rescheduled_when_retries_are_left(api):
    http, flow, agent = api
    run_id, lease = await new_claimed_run(http, flow, agent, max_retries=1)
    crashed = await set_state(http, run_id, "Crashed", message="OOM", lease_id=lease)
    assert crashed.status_code == 200 and crashed.json()["state"] == "Scheduled"
    assert crashed.json()["state_message"] == "retry 1 of 1 after the run Crashed"
    states = [h["state"] for h in (await http.get(f"/api/flow_runs/{run_id}/states")).json()]
    assert states == ["Scheduled", "Submitted", "Crashed", "Scheduled"]


@pytest.mark.anyio
async def test_unknown_or_abstract_state_is_422(api):
    http, flow, agent = api
    run_id, _ = await new_claimed_run(http, flow, agent)
    for name in ("Exploded", "Finished"):
        response = await set_state(http, run_id, name)
        assert response.status_code == 422
        assert name in response.text
