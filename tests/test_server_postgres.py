"""The same backend on PostgreSQL: basics, liveness and exactly-once claims.

Runs only when JUPYTER_FLOWS_TEST_POSTGRES_URL names a database the tests may wipe, e.g.
``postgresql+psycopg://postgres@127.0.0.1:55432/postgres``.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections import Counter
from contextlib import ExitStack

import pytest
from wire import spec_json

from jupyter_flows.client import Client
from jupyter_flows.client.testing import finishing_agent
from jupyter_flows.server.settings import Settings
from jupyter_flows.server.testing import (
    RecordingTransport,
    in_process,
    running_server,
)

URL = os.environ.get("JUPYTER_FLOWS_TEST_POSTGRES_URL", "")
pytestmark = pytest.mark.skipif(not URL, reason="set JUPYTER_FLOWS_TEST_POSTGRES_URL to run "
                                                "the PostgreSQL tests")


@pytest.mark.anyio
async def test_a_run_end_to_end_on_postgres(pg_url):
    async with in_process(Settings(database_url=pg_url)) as http:
        assert (await http.get("/api/health")).json()["database"] == "postgresql"
        flow = (await http.post("/api/flows", json={
            "name": "pg", "spec": spec_json("pg", location="1"), "labels": ["pg"]})).json()
        same = await http.post("/api/flows", json={
            "name": "pg", "spec": spec_json("pg", location="1"), "labels": ["pg"]})
        assert same.status_code == 200 and same.json()["id"] == flow["id"]
        v2 = (await http.post("/api/flows", json={"name": "pg",
                                                  "spec": spec_json("pg", location="2")})).json()
        assert v2["version"] == 2
        results = await asyncio.gather(*[
            http.post("/api/flow_runs", json={"flow_id": flow["id"], "idempotency_key": "k"})
            for _ in range(5)])
        assert len({r.json()["id"] for r in results}) == 1
        run = results[0].json()
        other = (await http.post("/api/agents", json={"name": "other"})).json()
        agent = (await http.post("/api/agents", json={"name": "pg-agent",
                                                      "labels": ["pg", "x"]})).json()
        assert (await http.post(f"/api/agents/{other['id']}/claim")).status_code == 204
        claim = (await http.post(f"/api/agents/{agent['id']}/claim")).json()
        assert claim["flow_run"]["id"] == run["id"]
        lease = claim["lease"]["lease_id"]
        url = f"/api/flow_runs/{run['id']}"
        assert (await http.post(f"{url}/state", json={"state": "Running",
                                                      "lease_id": lease})).status_code == 200
        stale = await http.post(f"{url}/state", json={"state": "Success", "lease_id": lease,
                                                      "expected_version": 1})
        assert stale.status_code == 409
        tasks = await http.post(f"{url}/task_runs", json={"lease_id": lease, "task_runs": [
            {"task_slug": "t", "state": "Success"}, {"task_slug": "m", "map_index": 0,
                                                     "state": "Failed"}]})
        assert tasks.json() == {"count": 2}
        await http.post(f"{url}/logs", json=[{"message": "one"}, {"message": "two"}])
        done = await http.post(f"{url}/state", json={"state": "Success", "lease_id": lease})
        assert done.json()["state"] == "Success"
        assert [h["state"] for h in (await http.get(f"{url}/states")).json()] == [
            "Scheduled", "Submitted", "Running", "Success"]
        assert len((await http.get(f"{url}/task_runs")).json()) == 2
        assert [x["message"] for x in (await http.get(f"{url}/logs")).json()["items"]] == [
            "one", "two"]
        listed = (await http.get("/api/flow_runs", params={"labels": ["pg"],
                                                          "state": "Success"})).json()
        assert listed["total"] == 1


@pytest.mark.anyio
async def test_expired_leases_crash_on_postgres(pg_url):
    settings = Settings(database_url=pg_url, lease_timeout=1, sweep_interval=0.2)
    async with in_process(settings) as http:
        flow = (await http.post("/api/flows", json={"name": "f", "spec": spec_json()})).json()
        agent = (await http.post("/api/agents", json={"name": "a"})).json()
        run = (await http.post("/api/flow_runs", json={"flow_id": flow["id"],
                                                       "max_retries": 1})).json()
        claim = (await http.post(f"/api/agents/{agent['id']}/claim")).json()
        # (a run still Submitted would go back without a Crash: it never started)
        await http.post(f"/api/flow_runs/{run['id']}/state",
                        json={"state": "Running", "lease_id": claim["lease"]["lease_id"]})
        deadline = time.monotonic() + 10
        while True:
            states = [h["state"] for h in
                      (await http.get(f"/api/flow_runs/{run['id']}/states")).json()]
            if states[-1] == "Scheduled" and "Crashed" in states:
                break
            assert time.monotonic() < deadline, states
            await asyncio.sleep(0.1)
        assert states == ["Scheduled", "Submitted", "Running", "Crashed", "Scheduled"]


@pytest.mark.slow
def test_every_run_is_claimed_exactly_once_on_postgres(pg_url):
    runs, agents = 120, 4
    with ExitStack() as stack:
        urls = [stack.enter_context(running_server(pg_url)) for _ in range(2)]
        transports = [RecordingTransport() for _ in range(agents)]
        creator = stack.enter_context(Client(urls[0]))
        flow = creator.register_flow("many", {"tasks": []})
        run_ids = [creator.create_flow_run(flow.id).id for _ in range(runs // 2)]
        stop = threading.Event()
        claimed: list[list[str]] = [[] for _ in range(agents)]
        errors: list[BaseException] = []
        threads = [threading.Thread(target=finishing_agent,
                                    args=(urls[i % 2], f"agent-{i}", [], stop, claimed[i],
                                          errors, transports[i]))
                   for i in range(agents)]
        for thread in threads:
            thread.start()
        run_ids += [creator.create_flow_run(flow.id).id for _ in range(runs - runs // 2)]
        deadline = time.monotonic() + 60
        while creator.list_flow_runs(flow.id, state="Success", limit=1).total < runs:
            assert time.monotonic() < deadline and not errors, errors
            time.sleep(0.1)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        everything = [run_id for got in claimed for run_id in got]
        assert not errors and sorted(everything) == sorted(run_ids)
        statuses = sum((t.statuses for t in transports), Counter())
        assert not [code for code in statuses if code >= 500], statuses
