"""Concurrency limits through the ASGI app: the API, and claims held back by full slots."""

from __future__ import annotations

import pytest
from wire import spec_json

from jupyter_flows.server.settings import Settings
from jupyter_flows.server.testing import in_process

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["sqlite", "postgresql"])
async def http(request, tmp_path):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/b.db"
    else:
        url = request.getfixturevalue("pg_url")
    async with in_process(Settings(database_url=url, claim_max_wait=3)) as client:
        yield client


async def runs(http, labels, count):
    flow = (await http.post("/api/flows", json={"name": f"f-{'-'.join(labels) or 'none'}",
                                                "spec": spec_json(), "labels": labels})).json()
    made = []
    for _ in range(count):
        response = await http.post("/api/flow_runs", json={"flow_id": flow["id"]})
        assert response.status_code == 201, response.text
        made.append(response.json()["id"])
    return made


async def agent(http, labels=("gpu",)):
    return (await http.post("/api/agents", json={"name": "a", "labels": list(labels)})).json()


async def claim(http, agent):
    response = await http.post(f"/api/agents/{agent['id']}/claim", params={"wait": 0})
    assert response.status_code in (200, 204), response.text
    if response.status_code == 204:
        return None
    body = response.json()
    return {**body["flow_run"], "lease_id": body["lease"]["lease_id"]}


async def set_state(http, run, state):
    response = await http.post(f"/api/flow_runs/{run['id']}/state",
                               json={"state": state, "lease_id": run["lease_id"]})
    assert response.status_code == 200, response.text


async def test_limits_are_set_listed_changed_and_deleted(http):
    assert (await http.get("/api/limits")).json() == []
    set_ = await http.put("/api/limits/label/gpu", json={"limit": 2})
    assert set_.status_code == 200, set_.text
    assert {k: set_.json()[k] for k in ("kind", "name", "limit", "in_use")} == {
        "kind": "label", "name": "gpu", "limit": 2, "in_use": 0}
    await http.put("/api/limits/label/big mem", json={"limit": 0})
    changed = (await http.put("/api/limits/label/gpu", json={"limit": 3})).json()
    assert changed["limit"] == 3 and changed["created"] == set_.json()["created"]
    listed = (await http.get("/api/limits")).json()
    assert [(x["name"], x["limit"]) for x in listed] == [("big mem", 0), ("gpu", 3)]
    removed = await http.delete("/api/limits/label/gpu")
    assert removed.status_code == 200 and removed.json()["limit"] == 3
    assert [x["name"] for x in (await http.get("/api/limits")).json()] == ["big mem"]


async def test_a_negative_limit_is_refused_naming_the_field(http):
    response = await http.put("/api/limits/label/gpu", json={"limit": -1})
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "limit"] and "greater than or equal to 0" in error["msg"]
    assert (await http.put("/api/limits/team/gpu", json={"limit": 1})).status_code == 422


async def test_deleting_an_unknown_limit_is_404(http):
    response = await http.delete("/api/limits/label/nothing")
    assert response.status_code == 404
    assert response.json()["detail"] == "no label concurrency limit with id 'nothing'"


async def test_a_full_label_holds_its_runs_back_until_a_slot_frees(http):
    await http.put("/api/limits/label/gpu", json={"limit": 2})
    gpu = await runs(http, ["gpu"], 5)
    worker = await agent(http)
    first, second = await claim(http, worker), await claim(http, worker)
    assert [first["id"], second["id"]] == gpu[:2]
    assert await claim(http, worker) is None
    listed = (await http.get("/api/limits")).json()
    assert [(x["name"], x["in_use"]) for x in listed] == [("gpu", 2)]

    # a run without the limited label is not held back
    plain = await runs(http, [], 1)
    assert (await claim(http, worker))["id"] == plain[0]

    await set_state(http, first, "Running")
    assert await claim(http, worker) is None  # Running still holds its slot
    await set_state(http, first, "Success")
    assert (await claim(http, worker))["id"] == gpu[2]
    assert await claim(http, worker) is None


async def test_a_limit_of_zero_holds_every_run_back_and_deleting_it_lets_them_go(http):
    await http.put("/api/limits/label/gpu", json={"limit": 0})
    [run] = await runs(http, ["gpu"], 1)
    worker = await agent(http)
    assert await claim(http, worker) is None
    await http.delete("/api/limits/label/gpu")
    assert (await claim(http, worker))["id"] == run



async def test_a_held_back_run_says_what_it_waits_for(http):
    await http.put("/api/limits/label/gpu", json={"limit": 1})
    first, second = await runs(http, ["gpu"], 2)
    worker = await agent(http)
    assert (await http.get(f"/api/flow_runs/{first}")).json()["waiting_for"] is None
    assert (await claim(http, worker))["id"] == first
    waiting = (await http.get(f"/api/flow_runs/{second}")).json()["waiting_for"]
    assert waiting == ("waiting for a slot: runs with label 'gpu' are limited to 1 at once "
                       "(1 hold one)")
    assert (await http.get(f"/api/flow_runs/{first}")).json()["waiting_for"] is None


async def test_a_run_keeps_the_name_it_was_created_with(http):
    flow = (await http.post("/api/flows", json={"name": "f", "spec": spec_json()})).json()
    made = (await http.post("/api/flow_runs", json={"flow_id": flow["id"],
                                                     "name": "nightly load"})).json()
    assert made["name"] == "nightly load"
    assert (await http.get(f"/api/flow_runs/{made['id']}")).json()["name"] == "nightly load"


async def running_runs(http, count):
    made = await runs(http, [], count)
    worker = await agent(http, labels=())
    claimed = [await claim(http, worker) for _ in made]
    for run in claimed:
        await set_state(http, run, "Running")
    return claimed


async def take(http, run, slug, tags, map_index=None, lease_id=None):
    response = await http.post(f"/api/flow_runs/{run['id']}/task_slots", json={
        "lease_id": lease_id or run["lease_id"], "task_slug": slug, "map_index": map_index,
        "tags": tags})
    return response


async def release(http, run, slug, map_index=None):
    params = {"task_slug": slug} | ({} if map_index is None else {"map_index": map_index})
    response = await http.delete(f"/api/flow_runs/{run['id']}/task_slots", params=params)
    assert response.status_code == 200, response.text
    return response.json()["count"]


async def test_task_runs_take_a_tags_slots_across_runs_and_give_them_back(http):
    await http.put("/api/limits/tag/db", json={"limit": 2})
    one, two, three = await running_runs(http, 3)
    assert (await take(http, one, "load", ["db", "etl"])).json() == {
        "granted": True, "message": None}
    assert (await take(http, two, "load", ["db"], map_index=0)).json()["granted"] is True
    refused = (await take(http, three, "load", ["db"])).json()
    assert refused == {"granted": False, "message": "waiting for a slot: task runs with tag "
                                                    "'db' are limited to 2 at once (2 hold one)"}
    # asking again for a slot held (an answer lost on the way) is granted, not counted twice
    assert (await take(http, one, "load", ["db", "etl"])).json()["granted"] is True
    limits = (await http.get("/api/limits")).json()
    assert [(x["kind"], x["name"], x["in_use"]) for x in limits] == [("tag", "db", 2)]
    # a tag without a limit needs no slot
    assert (await take(http, three, "other", ["etl"])).json()["granted"] is True

    assert await release(http, one, "load") == 1
    assert await release(http, one, "load") == 0
    assert (await take(http, three, "load", ["db"])).json()["granted"] is True
    assert (await take(http, one, "again", ["db"])).json()["granted"] is False
    # a flow run that ends frees its task runs' slots with it
    await set_state(http, two, "Failed")
    assert (await take(http, one, "again", ["db"])).json()["granted"] is True


async def test_a_task_slot_needs_the_runs_live_lease(http):
    await http.put("/api/limits/tag/db", json={"limit": 1})
    [run] = await running_runs(http, 1)
    stale = await take(http, run, "load", ["db"], lease_id="0" * 32)
    assert stale.status_code == 409 and "no longer valid" in stale.json()["detail"]
    await set_state(http, run, "Success")
    finished = await take(http, run, "load", ["db"])
    assert finished.status_code == 409
    assert (await http.get("/api/limits")).json()[0]["in_use"] == 0
