"""Claims through the ASGI app: labels, order, long-polls, heartbeats, infra failures."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone

import pytest
from wire import spec_json

from jupyter_flows.server.settings import Settings
from jupyter_flows.server.testing import in_process

pytestmark = pytest.mark.anyio


@pytest.fixture
async def http(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path}/b.db", claim_max_wait=3)
    async with in_process(settings) as client:
        yield client


async def setup(http, labels=(), agent_labels=()):
    flow = (await http.post("/api/flows", json={"name": "f", "spec": spec_json(),
                                                "labels": list(labels)})).json()
    agent = (await http.post("/api/agents", json={"name": "agent-1", "type": "local",
                                                  "labels": list(agent_labels)})).json()
    return flow, agent


async def create(http, flow, **fields):
    response = await http.post("/api/flow_runs", json={"flow_id": flow["id"], **fields})
    assert response.status_code == 201, response.text
    return response.json()


async def claim(http, agent, wait=0.0):
    response = await http.post(f"/api/agents/{agent['id']}/claim", params={"wait": wait})
    assert response.status_code in (200, 204), response.text
    return None if response.status_code == 204 else response.json()


async def test_claim_marks_the_run_submitted_with_a_lease(http):
    flow, agent = await setup(http)
    run = await create(http, flow)
    claimed = await claim(http, agent)
    assert claimed["flow_run"]["id"] == run["id"]
    got = (await http.get(f"/api/flow_runs/{run['id']}")).json()
    assert got["state"] == "Submitted" and got["run_count"] == 1 and got["version"] == 2
    assert (got["agent_id"], got["agent_name"]) == (agent["id"], "agent-1")
    assert got["lease_expires_at"] == claimed["lease"]["expires_at"]
    assert "agent-1" in got["state_message"]
    assert claimed["flow"]["id"] == flow["id"]
    assert await claim(http, agent) is None


async def test_claim_returns_unmasked_run_config_to_the_agent(http):
    flow = (await http.post("/api/flows", json={
        "name": "f", "spec": spec_json(), "run_config": {"env": {"API_TOKEN": "t0k"}}})).json()
    agent = (await http.post("/api/agents", json={"name": "a"})).json()
    await create(http, flow)
    claimed = await claim(http, agent)
    assert claimed["flow_run"]["run_config"]["env"]["API_TOKEN"] == "t0k"
    assert claimed["flow"]["run_config"]["env"]["API_TOKEN"] == "t0k"
    listed = (await http.get("/api/flow_runs")).json()["items"][0]
    assert listed["run_config"]["env"]["API_TOKEN"] == "***"


async def test_run_labels_must_be_a_subset_of_the_agents(http):
    flow, plain = await setup(http)
    gpu = (await http.post("/api/agents", json={"name": "gpu", "labels": ["gpu", "eu"]})).json()
    needs_gpu = await create(http, flow, labels=["gpu"])
    assert await claim(http, plain) is None
    assert (await claim(http, gpu))["flow_run"]["id"] == needs_gpu["id"]
    anything = await create(http, flow, labels=[])
    assert (await claim(http, plain))["flow_run"]["id"] == anything["id"]
    too_many = await create(http, flow, labels=["gpu", "us"])
    assert await claim(http, gpu) is None
    got = (await http.get(f"/api/flow_runs/{too_many['id']}")).json()
    assert got["state"] == "Scheduled"
    assert "agent 'gpu' (local) lacks 'us'" in got["agent_match"]["explanation"]


async def test_oldest_due_run_first_and_future_runs_wait(http):
    flow, agent = await setup(http)
    now = datetime.now(timezone.utc)
    later = await create(http, flow, scheduled_start=(now + timedelta(seconds=1)).isoformat())
    first = await create(http, flow, scheduled_start=(now - timedelta(minutes=2)).isoformat())
    second = await create(http, flow)
    assert (await claim(http, agent))["flow_run"]["id"] == first["id"]
    assert (await claim(http, agent))["flow_run"]["id"] == second["id"]
    assert await claim(http, agent) is None  # `later` is not due yet
    started = time.monotonic()
    claimed = await claim(http, agent, wait=3)  # the fallback poll finds it once due
    assert claimed["flow_run"]["id"] == later["id"]
    assert time.monotonic() - started < 3


async def test_waiting_claim_wakes_when_a_run_is_created(http):
    flow, agent = await setup(http)
    created_at: list[float] = []

    async def create_later():
        await asyncio.sleep(0.3)
        created_at.append(time.monotonic())
        return await create(http, flow)

    claimed, run = await asyncio.gather(claim(http, agent, wait=3), create_later())
    latency = time.monotonic() - created_at[0]
    assert claimed is not None and claimed["flow_run"]["id"] == run["id"]
    assert latency < 1.0, latency


async def test_wait_is_capped_and_ends_in_204(http):
    _, agent = await setup(http)
    started = time.monotonic()
    assert await claim(http, agent, wait=1000) is None
    assert 2.5 < time.monotonic() - started < 6  # claim_max_wait is 3 s here


async def test_concurrent_claimers_each_get_distinct_runs(http):
    flow, _ = await setup(http)
    agents = [(await http.post("/api/agents", json={"name": f"a{i}"})).json() for i in range(4)]
    runs = {(await create(http, flow))["id"] for _ in range(24)}

    async def drain(agent):
        got = []
        while (claimed := await claim(http, agent)) is not None:
            got.append(claimed["flow_run"]["id"])
        return got

    results = await asyncio.gather(*(drain(a) for a in agents))
    claimed = [run_id for got in results for run_id in got]
    assert sorted(claimed) == sorted(runs)


async def test_claim_for_unknown_agent_is_404(http):
    response = await http.post("/api/agents/nobody/claim")
    assert response.status_code == 404


async def test_agents_register_by_name_and_heartbeat(http):
    first = (await http.post("/api/agents", json={"name": "a", "labels": ["x"]})).json()
    again = (await http.post("/api/agents", json={"name": "a", "type": "docker",
                                                  "labels": ["y"]})).json()
    assert again["id"] == first["id"] and (again["type"], again["labels"]) == ("docker", ["y"])
    beat = (await http.post(f"/api/agents/{first['id']}/heartbeat")).json()
    assert beat["online"] and beat["last_heartbeat"] > first["last_heartbeat"]
    assert [a["id"] for a in (await http.get("/api/agents")).json()] == [first["id"]]
    assert (await http.get(f"/api/agents/{first['id']}")).json()["name"] == "a"


async def test_run_heartbeat_renews_the_lease(http):
    flow, agent = await setup(http)
    await create(http, flow)
    claimed = await claim(http, agent)
    run_id, lease = claimed["flow_run"]["id"], claimed["lease"]["lease_id"]
    await asyncio.sleep(0.01)
    ack = await http.post(f"/api/flow_runs/{run_id}/heartbeat", json={"lease_id": lease})
    assert ack.status_code == 200
    assert ack.json()["expires_at"] > claimed["lease"]["expires_at"]
    assert ack.json()["state"] == "Submitted"
    wrong = await http.post(f"/api/flow_runs/{run_id}/heartbeat", json={"lease_id": "x"})
    assert wrong.status_code == 409


async def test_infrastructure_failure_crashes_now_and_reschedules(http):
    flow, agent = await setup(http)
    run = await create(http, flow, max_retries=1)
    claimed = await claim(http, agent)
    lease = claimed["lease"]["lease_id"]
    response = await http.post(f"/api/flow_runs/{run['id']}/infrastructure_failure",
                               json={"lease_id": lease, "exit_code": 137,
                                     "message": "container OOM-killed"})
    assert response.status_code == 200 and response.json()["state"] == "Scheduled"
    history = (await http.get(f"/api/flow_runs/{run['id']}/states")).json()
    crash = history[-2]
    assert crash["state"] == "Crashed"
    assert "exit code 137: container OOM-killed" in crash["message"]
    assert "last heartbeat" in crash["message"]
    # the second attempt fails too: no retries left, it stays Crashed
    lease = (await claim(http, agent))["lease"]["lease_id"]
    final = await http.post(f"/api/flow_runs/{run['id']}/infrastructure_failure",
                            json={"lease_id": lease, "exit_code": 1})
    assert final.json()["state"] == "Crashed" and final.json()["exit_code"] == 1
