"""Leases that expire: the sweeper marks runs Crashed, then the retry rule reschedules."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import pytest
from wire import spec_json

from jupyter_flows.server.settings import Settings
from jupyter_flows.server.testing import in_process

pytestmark = pytest.mark.anyio

LEASE = 1.0
SWEEP = 0.2


@pytest.fixture
async def api(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path}/b.db", lease_timeout=LEASE,
                        sweep_interval=SWEEP)
    async with in_process(settings) as http:
        flow = (await http.post("/api/flows", json={"name": "f", "spec": spec_json()})).json()
        agent = (await http.post("/api/agents", json={"name": "a"})).json()
        yield http, flow, agent


async def claim_and_run(http, agent):
    claimed = (await http.post(f"/api/agents/{agent['id']}/claim")).json()
    run_id, lease = claimed["flow_run"]["id"], claimed["lease"]["lease_id"]
    running = await http.post(f"/api/flow_runs/{run_id}/state",
                              json={"state": "Running", "lease_id": lease})
    assert running.status_code == 200
    return run_id, lease, running.json()["last_heartbeat"]


async def wait_for_state(http, run_id, states, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = (await http.get(f"/api/flow_runs/{run_id}")).json()
        if run["state"] in states:
            return run
        await asyncio.sleep(0.05)
    raise AssertionError(f"run {run_id} still {run['state']} after {timeout} s")


async def test_expired_lease_crashes_the_run_then_retries_then_gives_up(api):
    http, flow, agent = api
    run = (await http.post("/api/flow_runs", json={"flow_id": flow["id"],
                                                   "max_retries": 1})).json()
    run_id, lease, last_beat = await claim_and_run(http, agent)
    assert run_id == run["id"]
    started = time.monotonic()
    rescheduled = await wait_for_state(http, run_id, {"Scheduled"})
    # the documented bound: Crashed within lease_timeout + sweep_interval (+ slack)
    assert time.monotonic() - started < LEASE + SWEEP + 2
    assert rescheduled["state_message"] == "retry 1 of 1 after the run Crashed"
    history = (await http.get(f"/api/flow_runs/{run_id}/states")).json()
    assert [h["state"] for h in history] == [
        "Scheduled", "Submitted", "Running", "Crashed", "Scheduled"]
    crash = history[3]["message"]
    beat = datetime.fromisoformat(last_beat.replace("Z", "+00:00"))
    assert f"last heartbeat at {beat.isoformat(timespec='seconds')}" in crash
    assert "lease expired" in crash

    # the worker that lost its lease is refused
    stale = await http.post(f"/api/flow_runs/{run_id}/state",
                            json={"state": "Success", "lease_id": lease})
    assert stale.status_code == 409
    assert stale.json()["detail"].startswith(f"lease {lease} is no longer valid")
    tasks = await http.post(f"/api/flow_runs/{run_id}/task_runs", json={
        "lease_id": lease, "task_runs": [{"task_slug": "t", "state": "Success"}]})
    assert tasks.status_code == 409

    # second attempt (run_count 2 > max_retries 1): Crashed for good
    run_id2, _, _ = await claim_and_run(http, agent)
    assert run_id2 == run_id
    final = await wait_for_state(http, run_id, {"Crashed"})
    assert final["run_count"] == 2 and final["lease_expires_at"] is None


async def test_heartbeats_keep_a_run_alive(api):
    http, flow, agent = api
    await http.post("/api/flow_runs", json={"flow_id": flow["id"]})
    run_id, lease, _ = await claim_and_run(http, agent)
    for _ in range(8):  # 2 s, twice the lease timeout
        await asyncio.sleep(0.25)
        beat = await http.post(f"/api/flow_runs/{run_id}/heartbeat", json={"lease_id": lease})
        assert beat.status_code == 200, beat.text
    assert (await http.get(f"/api/flow_runs/{run_id}")).json()["state"] == "Running"


async def test_an_expired_but_unswept_lease_is_refused(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path}/b.db", lease_timeout=0.3,
                        sweep_interval=60)
    async with in_process(settings) as http:
        flow = (await http.post("/api/flows", json={"name": "f", "spec": spec_json()})).json()
        agent = (await http.post("/api/agents", json={"name": "a"})).json()
        await http.post("/api/flow_runs", json={"flow_id": flow["id"]})
        claimed = (await http.post(f"/api/agents/{agent['id']}/claim")).json()
        await asyncio.sleep(0.5)
        late = await http.post(f"/api/flow_runs/{claimed['flow_run']['id']}/heartbeat",
                               json={"lease_id": claimed["lease"]["lease_id"]})
        assert late.status_code == 409
        assert "is no longer valid: it expired at" in late.json()["detail"]
