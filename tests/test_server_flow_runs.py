"""Flow runs through the ASGI app: creation, idempotency keys, lists, agent_match."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from wire import spec_json

from jupyter_flows.server.settings import Settings
from jupyter_flows.server.testing import in_process

pytestmark = pytest.mark.anyio


@pytest.fixture
async def http(tmp_path):
    async with in_process(Settings(database_url=f"sqlite:///{tmp_path}/backend.db")) as client:
        yield client


async def register(http, name="etl", spec=None, **fields):
    body = {"name": name, "spec": spec or spec_json(name), **fields}
    return (await http.post("/api/flows", json=body)).json()


async def create(http, expect=201, **body):
    response = await http.post("/api/flow_runs", json=body)
    assert response.status_code == expect, response.text
    return response.json()


async def test_create_by_id_starts_scheduled_with_the_flows_defaults(http):
    flow = await register(http, labels=["gpu"], max_retries=2, spec=spec_json(
                              "etl", params={"x": False}),
                          run_config={"type": "LocalRun", "env": {"A": "1"}},
                          executor={"type": "LocalExecutor"})
    run = await create(http, flow_id=flow["id"], parameters={"x": 1})
    assert run["state"] == "Scheduled" and run["version"] == 1 and run["run_count"] == 0
    assert (run["labels"], run["max_retries"]) == (["gpu"], 2)
    assert run["run_config"] == {"type": "LocalRun", "env": {"A": "1"}}
    assert (run["flow_name"], run["flow_version"], run["parameters"]) == ("etl", 1, {"x": 1})
    got = (await http.get(f"/api/flow_runs/{run['id']}")).json()
    assert got["state"] == "Scheduled" and got["agent_match"] is not None
    history = (await http.get(f"/api/flow_runs/{run['id']}/states")).json()
    assert [(h["state"], h["version"]) for h in history] == [("Scheduled", 1)]


async def test_overrides_merge_or_replace(http):
    flow = await register(http, run_config={"type": "LocalRun", "env": {"A": "1"}},
                          labels=["a"])
    same_type = await create(http, flow_id=flow["id"], run_config={"working_dir": "/w"},
                             labels=["b", "a", "b"], max_retries=3)
    assert same_type["run_config"] == {"type": "LocalRun", "env": {"A": "1"},
                                       "working_dir": "/w"}
    assert (same_type["labels"], same_type["max_retries"]) == (["a", "b"], 3)
    other_type = await create(http, flow_id=flow["id"],
                              run_config={"type": "DockerRun", "image": "python"})
    assert other_type["run_config"] == {"type": "DockerRun", "image": "python"}


async def test_create_by_name_takes_the_newest_or_the_given_version(http):
    v1 = await register(http, spec=spec_json("etl", location="1"))
    v2 = await register(http, spec=spec_json("etl", location="2"))
    assert (await create(http, flow_name="etl"))["flow_id"] == v2["id"]
    assert (await create(http, flow_name="etl", flow_version=1))["flow_id"] == v1["id"]
    missing = await http.post("/api/flow_runs", json={"flow_name": "etl", "flow_version": 9})
    assert missing.status_code == 404 and "version 9" in missing.json()["detail"]
    await register(http, project="elsewhere")
    ambiguous = await http.post("/api/flow_runs", json={"flow_name": "etl"})
    assert ambiguous.status_code == 422 and "give project" in ambiguous.json()["detail"]
    assert (await create(http, flow_name="etl", project="default"))["flow_id"] == v2["id"]
    both = await http.post("/api/flow_runs", json={"flow_name": "etl", "flow_id": v1["id"]})
    assert both.status_code == 422


async def test_idempotency_key_returns_the_existing_run(http):
    flow = await register(http)
    first = await create(http, flow_id=flow["id"], idempotency_key="nightly-2024-01-01")
    again = await create(http, expect=200, flow_id=flow["id"],
                         idempotency_key="nightly-2024-01-01", parameters={"ignored": True})
    assert again["id"] == first["id"] and again["parameters"] == {}
    other = await create(http, flow_id=flow["id"], idempotency_key="nightly-2024-01-02")
    assert other["id"] != first["id"]
    # concurrent creates with one key make one run
    results = await asyncio.gather(*[
        http.post("/api/flow_runs", json={"flow_id": flow["id"], "idempotency_key": "k"})
        for _ in range(6)])
    assert sorted(r.status_code for r in results) == [200] * 5 + [201]
    assert len({r.json()["id"] for r in results}) == 1
    page = (await http.get("/api/flow_runs", params={"flow_id": flow["id"]})).json()
    assert page["total"] == 3


async def test_list_filters_and_pagination(http):
    a = await register(http, name="a")
    b = await register(http, name="b")
    for _ in range(3):
        await create(http, flow_id=a["id"], labels=["gpu", "eu"])
    await create(http, flow_id=a["id"], labels=["eu"])
    cancelled = await create(http, flow_id=b["id"])
    await http.post(f"/api/flow_runs/{cancelled['id']}/state", json={"state": "Cancelled"})

    async def ids(**params):
        page = (await http.get("/api/flow_runs", params=params)).json()
        return page["total"], [r["id"] for r in page["items"]]

    assert (await ids())[0] == 5
    assert (await ids(flow_id=a["id"]))[0] == 4
    assert (await ids(flow_name="b"))[1] == [cancelled["id"]]
    assert (await ids(state="Cancelled"))[1] == [cancelled["id"]]
    assert (await ids(state=["Cancelled", "Scheduled"]))[0] == 5
    assert (await ids(labels=["eu"]))[0] == 4
    assert (await ids(labels=["eu", "gpu"]))[0] == 3
    total, first_two = await ids(limit=2)
    _, next_two = await ids(limit=2, offset=2)
    _, last = await ids(limit=2, offset=4)
    assert total == 5 and len(first_two + next_two + last) == 5
    assert len(set(first_two + next_two + last)) == 5
    assert (await http.get("/api/flow_runs", params={"limit": 0})).status_code == 422


async def test_get_missing_run_is_404(http):
    response = await http.get("/api/flow_runs/0123")
    assert response.status_code == 404 and "0123" in response.json()["detail"]


async def test_scheduled_start_is_kept(http):
    flow = await register(http)
    later = datetime.now(timezone.utc) + timedelta(hours=1)
    run = await create(http, flow_id=flow["id"], scheduled_start=later.isoformat())
    start = datetime.fromisoformat(run["scheduled_start"].replace("Z", "+00:00"))
    assert abs((start - later).total_seconds()) < 0.001


async def test_agent_match_explains_what_is_missing(http):
    flow = await register(http, labels=["gpu", "prod"])
    run = await create(http, flow_id=flow["id"])

    async def match():
        return (await http.get(f"/api/flow_runs/{run['id']}")).json()["agent_match"]

    nobody = await match()
    assert nobody["matched"] is False
    assert nobody["explanation"].startswith("no agent is online")
    assert "['gpu', 'prod']" in nobody["explanation"]

    await http.post("/api/agents", json={"name": "cpu-box", "labels": ["prod"]})
    await http.post("/api/agents", json={"name": "laptop", "labels": []})
    missing = await match()
    assert missing["matched"] is False
    assert missing["explanation"] == (
        "no online agent can run this universal run with labels ['gpu', 'prod']: "
        "agent 'cpu-box' (local) lacks 'gpu'; agent 'laptop' (local) lacks 'gpu', 'prod'; "
        "start an agent whose labels include ['gpu', 'prod'] (`jupyter-flows agent local "
        "start`)")

    gpu = (await http.post("/api/agents", json={"name": "gpu-box",
                                                "labels": ["gpu", "prod", "x"]})).json()
    found = await match()
    assert found["matched"] is True and found["agent_ids"] == [gpu["id"]]
    assert "'gpu-box'" in found["explanation"]


async def test_a_run_goes_only_to_an_agent_that_runs_its_kind_of_run_config(http):
    """A DockerRun with only a local agent online is explained, and the local agent's
    claim does not take it; a docker agent's does."""
    flow = await register(http, run_config={"type": "docker", "image": "python:3.11"})
    run = await create(http, flow_id=flow["id"])
    local = (await http.post("/api/agents", json={"name": "laptop", "type": "local"})).json()
    match = (await http.get(f"/api/flow_runs/{run['id']}")).json()["agent_match"]
    assert match["matched"] is False
    assert "agent 'laptop' (local) runs local, universal run configs, not docker" in (
        match["explanation"])
    assert "`jupyter-flows agent docker start`" in match["explanation"]
    refused = await http.post(f"/api/agents/{local['id']}/claim", params={"wait": 0})
    assert refused.status_code == 204
    docker = (await http.post("/api/agents", json={"name": "box", "type": "docker"})).json()
    claim = await http.post(f"/api/agents/{docker['id']}/claim", params={"wait": 0})
    assert claim.status_code == 200 and claim.json()["flow_run"]["id"] == run["id"]
    # a universal run (or one with no run config) fits either
    plain = await create(http, flow_id=(await register(http, name="plain"))["id"])
    taken = await http.post(f"/api/agents/{local['id']}/claim", params={"wait": 0})
    assert taken.json()["flow_run"]["id"] == plain["id"]


async def test_offline_agents_do_not_match(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path}/b.db", agent_timeout=0.2)
    async with in_process(settings) as http:
        flow = await register(http)
        run = await create(http, flow_id=flow["id"])
        await http.post("/api/agents", json={"name": "old", "labels": []})
        await asyncio.sleep(0.3)
        agents = (await http.get("/api/agents")).json()
        assert [(a["name"], a["online"]) for a in agents] == [("old", False)]
        got = (await http.get(f"/api/flow_runs/{run['id']}")).json()
        assert got["agent_match"]["explanation"].startswith("no agent is online")


async def test_a_unique_id_prefix_names_a_run_everywhere_and_an_ambiguous_one_says_so(
        http, tmp_path):
    import sqlite3

    flow = await register(http)
    first, second = await create(http, flow_id=flow["id"]), await create(http, flow_id=flow["id"])
    # give the two runs ids that share their first 6 characters
    with sqlite3.connect(tmp_path / "backend.db") as connection:
        for old, new in ((first["id"], "abc123" + "0" * 26), (second["id"], "abc123" + "f" * 26)):
            for table, column in (("flow_runs", "id"), ("flow_run_states", "flow_run_id"),
                                  ("flow_run_labels", "flow_run_id")):
                connection.execute(f"UPDATE {table} SET {column} = ? WHERE {column} = ?",
                                   (new, old))
    await http.post(f"/api/flow_runs/{'abc123' + 'f' * 26}/logs", json=[{"message": "hi"}])
    for path in ("", "/states", "/logs", "/task_runs", "/events"):
        response = await http.get(f"/api/flow_runs/abc123ff{path}")
        assert response.status_code == 200, (path, response.text)
    assert (await http.get("/api/flow_runs/abc123ff")).json()["id"] == "abc123" + "f" * 26
    assert (await http.get("/api/flow_runs/abc123ff/logs")).json()["items"][0]["message"] == "hi"
    ambiguous = await http.get("/api/flow_runs/abc123")
    assert ambiguous.status_code == 409
    assert "prefix 'abc123' is ambiguous" in ambiguous.json()["detail"]
    assert "abc1230000" in ambiguous.json()["detail"]
    assert (await http.get("/api/flow_runs/abc")).status_code == 404  # too short to guess


async def test_a_run_with_an_unknown_or_missing_parameter_is_refused_at_creation(http):
    """What the run would fail with on an agent, said when the run is created."""
    flow = await register(http, spec=spec_json("etl", params={"n": True, "mode": False}))
    unknown = await create(http, expect=422, flow_id=flow["id"], parameters={"n": 1, "m": 2})
    assert unknown["detail"] == ("flow 'etl' has no parameter 'm'; its parameters are: n, mode")
    missing = await create(http, expect=422, flow_id=flow["id"], parameters={"mode": "x"})
    assert missing["detail"].startswith("flow 'etl' needs a value for required parameter 'n'")
    assert (await create(http, flow_id=flow["id"], parameters={"n": 1}))["state"] == "Scheduled"


async def test_a_child_run_records_its_parent_and_the_parent_lists_its_children(http):
    flow = await register(http)
    parent = await create(http, flow_id=flow["id"])
    assert parent["parent_flow_run_id"] is None
    # the parent may be named by a prefix, as every run id
    kids = [await create(http, flow_id=flow["id"], parent_flow_run_id=parent["id"][:8],
                         idempotency_key=f"{parent['id']}:start-{i}") for i in range(2)]
    assert {k["parent_flow_run_id"] for k in kids} == {parent["id"]}
    again = await create(http, expect=200, flow_id=flow["id"], parent_flow_run_id=parent["id"],
                         idempotency_key=f"{parent['id']}:start-0")
    assert again["id"] == kids[0]["id"]
    listed = (await http.get("/api/flow_runs", params={"parent": parent["id"]})).json()
    assert listed["total"] == 2 and {r["id"] for r in listed["items"]} == {k["id"] for k in kids}
    none = (await http.get("/api/flow_runs", params={"parent": kids[0]["id"]})).json()
    assert none["total"] == 0
    assert (await http.get(f"/api/flow_runs/{kids[1]['id']}")).json()[
        "parent_flow_run_id"] == parent["id"]
    unknown = await http.post("/api/flow_runs", json={"flow_id": flow["id"],
                                                      "parent_flow_run_id": "f" * 32})
    assert unknown.status_code == 404 and "flow run" in unknown.text
    assert (await http.get("/api/flow_runs", params={"parent": "f" * 32})).status_code == 404


async def test_a_batch_creates_its_runs_in_order_as_single_creates_would(http):
    etl = await register(http, labels=["gpu"], spec=spec_json("etl", params={"day": True}))
    other = await register(http, name="other")
    response = await http.post("/api/flow_runs/batch", json={"runs": [
        {"flow_id": etl["id"], "parameters": {"day": 1}, "name": "first"},
        {"flow_name": "other", "labels": ["cpu"]},
        {"flow_id": etl["id"], "parameters": {"day": 2}, "idempotency_key": "d2"},
    ]})
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["created"] == 3
    runs = body["runs"]
    assert [r["flow_id"] for r in runs] == [etl["id"], other["id"], etl["id"]]
    assert [r["parameters"] for r in runs] == [{"day": 1}, {}, {"day": 2}]
    assert [r["labels"] for r in runs] == [["gpu"], ["cpu"], ["gpu"]]
    assert runs[0]["name"] == "first" and {r["state"] for r in runs} == {"Scheduled"}
    for run in runs:  # as stored: read back, with its first state in the history
        assert (await http.get(f"/api/flow_runs/{run['id']}")).json()["state"] == "Scheduled"
        history = (await http.get(f"/api/flow_runs/{run['id']}/states")).json()
        assert [(s["state"], s["message"]) for s in history] == [("Scheduled", "created")]
    labelled = (await http.get("/api/flow_runs", params={"labels": "gpu"})).json()
    assert labelled["total"] == 2
    agent = (await http.post("/api/agents", json={"name": "a", "labels": ["cpu"]})).json()
    claim = await http.post(f"/api/agents/{agent['id']}/claim", params={"wait": 0})
    assert claim.json()["flow_run"]["id"] == runs[1]["id"]


async def test_a_batch_answers_runs_of_used_keys_and_makes_each_key_once(http):
    flow = await register(http)
    first = await create(http, flow_id=flow["id"], idempotency_key="k1")
    response = await http.post("/api/flow_runs/batch", json={"runs": [
        {"flow_id": flow["id"], "idempotency_key": "k1", "parameters": {"ignored": 1}},
        {"flow_id": flow["id"], "idempotency_key": "k2"},
        {"flow_id": flow["id"], "idempotency_key": "k2"},
    ]})
    body = response.json()
    assert response.status_code == 201 and body["created"] == 1
    ids = [r["id"] for r in body["runs"]]
    assert ids[0] == first["id"] and ids[1] == ids[2] != ids[0]
    assert (await http.get("/api/flow_runs")).json()["total"] == 2


async def test_a_refused_run_refuses_its_batch_naming_it_and_stores_nothing(http):
    flow = await register(http)
    response = await http.post("/api/flow_runs/batch", json={"runs": [
        {"flow_id": flow["id"]}, {"flow_id": flow["id"], "parameters": {"x": 1}}]})
    assert response.status_code == 422
    assert response.json()["detail"] == ("runs[1]: flow 'etl' has no parameter 'x'; its "
                                         "parameters are: none")
    missing = await http.post("/api/flow_runs/batch", json={"runs": [{"flow_name": "nope"}]})
    assert missing.status_code == 404 and missing.json()["detail"] == "runs[0]: no flow 'nope'"
    too_many = await http.post("/api/flow_runs/batch", json={
        "runs": [{"flow_id": flow["id"]}] * 1001})
    assert too_many.status_code == 422 and too_many.json()["detail"][0]["loc"] == ["body", "runs"]
    assert (await http.get("/api/flow_runs")).json()["total"] == 0
