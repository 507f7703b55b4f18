"""Task run states and logs of a flow run, through the ASGI app."""

from __future__ import annotations

import pytest
from wire import spec_json

from jupyter_flows.server.settings import Settings
from jupyter_flows.server.testing import in_process

pytestmark = pytest.mark.anyio


@pytest.fixture
async def claimed(tmp_path):
    async with in_process(Settings(database_url=f"sqlite:///{tmp_path}/b.db")) as http:
        flow = (await http.post("/api/flows", json={"name": "f", "spec": spec_json()})).json()
        agent = (await http.post("/api/agents", json={"name": "a"})).json()
        await http.post("/api/flow_runs", json={"flow_id": flow["id"]})
        claim = (await http.post(f"/api/agents/{agent['id']}/claim")).json()
        yield http, claim["flow_run"]["id"], claim["lease"]["lease_id"]


async def test_task_run_states_are_upserted_newest_wins(claimed):
    http, run_id, lease = claimed
    url = f"/api/flow_runs/{run_id}/task_runs"
    first = await http.post(url, json={"lease_id": lease, "task_runs": [
        {"task_slug": "load", "state": "Running", "timestamp": "2030-01-01T00:00:01Z"},
        {"task_slug": "sq", "state": "Mapped", "timestamp": "2030-01-01T00:00:01Z"},
        {"task_slug": "sq", "map_index": 0, "state": "Success",
         "timestamp": "2030-01-01T00:00:02Z"},
        {"task_slug": "sq", "map_index": 1, "state": "Failed", "message": "boom",
         "timestamp": "2030-01-01T00:00:02Z"},
    ]})
    assert first.json() == {"count": 4}
    second = await http.post(url, json={"lease_id": lease, "task_runs": [
        {"task_slug": "load", "state": "Success", "timestamp": "2030-01-01T00:00:05Z"},
        # arrives late: older than the stored Failed, so it is ignored
        {"task_slug": "sq", "map_index": 1, "state": "Running",
         "timestamp": "2030-01-01T00:00:00Z"},
    ]})
    assert second.json() == {"count": 1}
    rows = (await http.get(url)).json()
    assert [(r["task_slug"], r["map_index"], r["state"], r["message"]) for r in rows] == [
        ("load", None, "Success", None),
        ("sq", None, "Mapped", None),
        ("sq", 0, "Success", None),
        ("sq", 1, "Failed", "boom"),
    ]


async def test_task_run_writes_need_the_lease_and_a_known_state(claimed):
    http, run_id, _ = claimed
    url = f"/api/flow_runs/{run_id}/task_runs"
    no_lease = await http.post(url, json={"task_runs": [{"task_slug": "t", "state": "Running"}]})
    assert no_lease.status_code == 409
    bad = await http.post(url, json={"task_runs": [{"task_slug": "t", "state": "Weird"}]})
    assert bad.status_code == 422


async def test_logs_append_and_read_after_a_cursor(claimed):
    http, run_id, _ = claimed
    url = f"/api/flow_runs/{run_id}/logs"
    batch = [{"message": f"line {i}", "level": 20 if i % 2 else "warning",
              "task_slug": "t" if i < 3 else None, "map_index": i if i < 2 else None}
             for i in range(7)]
    assert (await http.post(url, json=batch)).json() == {"count": 7}
    page = (await http.get(url, params={"limit": 3})).json()
    assert [x["message"] for x in page["items"]] == ["line 0", "line 1", "line 2"]
    assert [x["level"] for x in page["items"]] == ["WARNING", "INFO", "WARNING"]
    assert page["items"][1]["task_slug"] == "t" and page["items"][1]["map_index"] == 1
    rest = (await http.get(url, params={"after": page["next_after"]})).json()
    assert [x["message"] for x in rest["items"]] == [f"line {i}" for i in range(3, 7)]
    empty = (await http.get(url, params={"after": rest["next_after"]})).json()
    assert empty == {"items": [], "next_after": rest["next_after"]}
    missing = await http.post("/api/flow_runs/nope/logs", json=batch)
    assert missing.status_code == 404
