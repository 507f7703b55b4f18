"""Claims that never start go back to the queue with their retries intact, and the time the
backend was down is not held against live leases (issue 11 items 3 and 5, issue 19)."""

from __future__ import annotations

import asyncio
import time

import pytest
from wire import spec_json

from jupyter_flows.server.returns import MAX_RETURNS, RETURN_PREFIX
from jupyter_flows.server.settings import Settings
from jupyter_flows.server.testing import in_process

pytestmark = pytest.mark.anyio


async def setup(http, max_retries=0):
    flow = (await http.post("/api/flows", json={"name": "f", "spec": spec_json()})).json()
    agent = (await http.post("/api/agents", json={"name": "a"})).json()
    run = (await http.post("/api/flow_runs", json={"flow_id": flow["id"],
                                                   "max_retries": max_retries})).json()
    return agent, run


async def claim(http, agent):
    claimed = (await http.post(f"/api/agents/{agent['id']}/claim")).json()
    return claimed["flow_run"]["id"], claimed["lease"]["lease_id"]


async def wait_for(http, run_id, predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while True:
        run = (await http.get(f"/api/flow_runs/{run_id}")).json()
        if predicate(run):
            return run
        assert time.monotonic() < deadline, run
        await asyncio.sleep(0.05)


async def history(http, run_id):
    return [(h["state"], h["message"]) for h in
            (await http.get(f"/api/flow_runs/{run_id}/states")).json()]


async def test_an_expired_claim_that_never_started_is_returned_without_using_a_retry(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path}/b.db", lease_timeout=1,
                        sweep_interval=0.2)
    async with in_process(settings) as http:
        agent, _run = await setup(http)  # max_retries 0: a Crash would be final
        run_id, lease = await claim(http, agent)
        back = await wait_for(http, run_id, lambda r: r["state"] == "Scheduled")
        assert back["run_count"] == 0 and back["lease_expires_at"] is None
        assert back["state_message"].startswith(RETURN_PREFIX)
        assert "lease expired before it started" in back["state_message"]
        assert [s for s, _ in await history(http, run_id)] == [
            "Scheduled", "Submitted", "Scheduled"]
        # the agent that held the claim cannot start it later
        late = await http.post(f"/api/flow_runs/{run_id}/state",
                               json={"state": "Running", "lease_id": lease})
        assert late.status_code == 409 and "no longer valid" in late.json()["detail"]
        # it is claimable again, and that claim is its first run
        run_id2, lease2 = await claim(http, agent)
        assert run_id2 == run_id
        running = await http.post(f"/api/flow_runs/{run_id}/state",
                                  json={"state": "Running", "lease_id": lease2})
        assert running.status_code == 200 and running.json()["run_count"] == 1


async def test_a_heartbeating_claim_not_running_within_the_start_timeout_is_returned(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path}/b.db", lease_timeout=1,
                        sweep_interval=0.2, start_timeout=2)
    async with in_process(settings) as http:
        agent, _run = await setup(http, max_retries=1)
        run_id, lease = await claim(http, agent)
        claimed_at = time.monotonic()
        answers = []
        # the agent keeps the lease alive, but the run never says Running
        while time.monotonic() - claimed_at < 15:
            beat = await http.post(f"/api/flow_runs/{run_id}/heartbeat",
                                   json={"lease_id": lease})
            answers.append(beat.status_code)
            if beat.status_code != 200:
                break
            await asyncio.sleep(0.2)
        assert answers[-1] == 409, answers
        assert time.monotonic() - claimed_at >= 2  # not before the start timeout
        back = (await http.get(f"/api/flow_runs/{run_id}")).json()
        assert (back["state"], back["run_count"], back["max_retries"]) == ("Scheduled", 0, 1)
        assert "start_timeout" in back["state_message"]
        late = await http.post(f"/api/flow_runs/{run_id}/state",
                               json={"state": "Running", "lease_id": lease})
        assert late.status_code == 409


async def test_an_agent_handing_a_claim_back_uses_no_retry(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path}/b.db", lease_timeout=30)
    async with in_process(settings) as http:
        agent, _run = await setup(http)
        run_id, lease = await claim(http, agent)
        back = await http.post(f"/api/flow_runs/{run_id}/state",
                               json={"state": "Scheduled", "lease_id": lease,
                                     "message": "backend unreachable at start"})
        assert back.status_code == 200
        assert (back.json()["state"], back.json()["run_count"]) == ("Scheduled", 0)
        assert back.json()["state_message"] == f"{RETURN_PREFIX}: backend unreachable at start"


async def test_a_claim_that_never_starts_is_crashed_after_a_few_returns(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path}/b.db", lease_timeout=30)
    async with in_process(settings) as http:
        agent, _run = await setup(http)
        for _ in range(MAX_RETURNS):
            run_id, lease = await claim(http, agent)
            back = await http.post(f"/api/flow_runs/{run_id}/state",
                                   json={"state": "Scheduled", "lease_id": lease})
            assert back.json()["state"] == "Scheduled"
        run_id, lease = await claim(http, agent)
        last = await http.post(f"/api/flow_runs/{run_id}/state",
                               json={"state": "Scheduled", "lease_id": lease})
        assert last.json()["state"] == "Crashed"
        assert f"never started after {MAX_RETURNS + 1} claims" in last.json()["state_message"]


async def test_a_restarted_server_does_not_hold_its_downtime_against_live_leases(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path}/b.db", lease_timeout=1,
                        sweep_interval=0.2)
    async with in_process(settings) as http:
        agent, _run = await setup(http)
        run_id, lease = await claim(http, agent)
        running = await http.post(f"/api/flow_runs/{run_id}/state",
                                  json={"state": "Running", "lease_id": lease})
        assert running.status_code == 200
    await asyncio.sleep(2.5)  # the server is down for longer than the lease
    async with in_process(settings) as http:
        beat = await http.post(f"/api/flow_runs/{run_id}/heartbeat", json={"lease_id": lease})
        assert beat.status_code == 200, beat.text
        for _ in range(5):  # several sweeps: the heartbeating run goes on
            await asyncio.sleep(0.25)
            beat = await http.post(f"/api/flow_runs/{run_id}/heartbeat",
                                   json={"lease_id": lease})
            assert beat.status_code == 200, beat.text
        done = await http.post(f"/api/flow_runs/{run_id}/state",
                               json={"state": "Success", "lease_id": lease})
        assert done.status_code == 200
        assert "Crashed" not in [s for s, _ in await history(http, run_id)]
