"""The run-events stream and the list feed: order, resumption, restarts, several servers."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from test_server_migrations import LEGACY_DONE, LEGACY_SQL
from wire import spec_json

from jupyter_flows.api import FlowRunStateEvent, LogEvent, RunEvent, TaskRunStateEvent
from jupyter_flows.client import Client
from jupyter_flows.server.settings import Settings
from jupyter_flows.server.testing import free_port, in_process, running_server


def start_run(client: Client, name: str = "events") -> tuple[str, str]:
    """A registered flow's run, claimed and Running: (run id, lease id)."""
    flow = client.register_flow(name, spec_json(name, ("a-1", "b-1")))
    run = client.create_flow_run(flow.id)
    agent = client.register_agent(f"{name}-agent")
    claim = client.claim(agent.id, wait=5)
    assert claim is not None and claim.flow_run.id == run.id
    lease = claim.lease.lease_id
    client.set_flow_run_state(run.id, "Running", lease_id=lease)
    return run.id, lease


def describe(event: RunEvent) -> str:
    if isinstance(event, FlowRunStateEvent):
        return f"run:{event.state}"
    if isinstance(event, TaskRunStateEvent):
        index = "" if event.map_index is None else f"[{event.map_index}]"
        return f"task:{event.task_slug}{index}:{event.state}"
    assert isinstance(event, LogEvent)
    return f"log:{event.message}"


def finish(client: Client, run_id: str, lease: str) -> None:
    client.set_task_run_states(run_id, [{"task_slug": "a-1", "state": "Running"}], lease_id=lease)
    client.write_logs(run_id, [{"message": "one"}, {"message": "two", "task_slug": "a-1"}])
    client.set_task_run_states(run_id, [{"task_slug": "a-1", "state": "Success"},
                                        {"task_slug": "b-1", "map_index": 0, "state": "Failed",
                                         "message": "boom"}], lease_id=lease)
    client.set_flow_run_state(run_id, "Failed", "b failed", lease_id=lease)


EXPECTED = ["run:Scheduled", "run:Submitted", "run:Running", "task:a-1:Running", "log:one",
            "log:two", "task:a-1:Success", "task:b-1[0]:Failed", "run:Failed"]


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[Client]:
    with running_server(tmp_path / "backend.db") as url, Client(url) as client:
        yield client


def test_a_page_lists_every_event_once_in_order_with_no_gaps(backend: Client) -> None:
    run_id, lease = start_run(backend)
    finish(backend, run_id, lease)
    page = backend.run_events(run_id)
    assert [describe(e) for e in page.items] == EXPECTED
    assert [e.seq for e in page.items] == list(range(1, len(EXPECTED) + 1))
    assert page.finished and page.state == "Failed" and page.next_after == len(EXPECTED)
    # a cursor and a limit read on from where the last page stopped
    first = backend.run_events(run_id, after=2, limit=3)
    assert [describe(e) for e in first.items] == EXPECTED[2:5] and not first.finished
    rest = backend.run_events(run_id, after=first.next_after)
    assert [describe(e) for e in rest.items] == EXPECTED[5:] and rest.finished


def test_the_stream_follows_a_run_live_and_ends_when_it_finishes(backend: Client) -> None:
    run_id, lease = start_run(backend)
    seen: list[str] = []
    follower = threading.Thread(target=lambda: seen.extend(
        describe(e) for e in backend.follow_run(run_id)))
    follower.start()
    time.sleep(0.3)  # the follower is waiting on a live stream now
    finish(backend, run_id, lease)
    follower.join(timeout=20)
    assert not follower.is_alive(), "the stream did not end with the run"
    assert seen == EXPECTED


def test_the_stream_resumes_after_a_cursor(backend: Client) -> None:
    run_id, lease = start_run(backend)
    finish(backend, run_id, lease)
    assert [describe(e) for e in backend.follow_run(run_id, after=6)] == EXPECTED[6:]
    # Last-Event-ID, as a browser's EventSource sends when it reconnects
    with httpx.stream("GET", f"{backend.url}/api/flow_runs/{run_id}/events",
                      headers={"Accept": "text/event-stream", "Last-Event-ID": "8"}) as reply:
        body = reply.read().decode()
    assert "event: flow_run_state" in body and "id: 9" in body and "event: end" in body
    assert "id: 8\n" not in body


def test_a_run_that_does_not_exist_is_a_404_not_a_stream(backend: Client) -> None:
    from jupyter_flows.errors import BackendError

    with pytest.raises(BackendError) as raised:
        list(backend.follow_run("nope"))
    assert raised.value.status == 404


def test_followers_ride_out_a_backend_restart_without_losing_or_repeating(tmp_path: Path
                                                                          ) -> None:
    db, port = tmp_path / "backend.db", free_port()
    seen: list[RunEvent] = []
    url = f"http://127.0.0.1:{port}"
    with ExitStack() as stack, Client(url) as client:
        stack.enter_context(running_server(db, port=port))
        run_id, lease = start_run(client)
        follower = threading.Thread(target=lambda: seen.extend(client.follow_run(run_id)))
        follower.start()
        time.sleep(0.3)
        client.set_task_run_states(run_id, [{"task_slug": "a-1", "state": "Running"}],
                                   lease_id=lease)
        time.sleep(0.3)
        stack.close()  # the server stops; the follower keeps trying
        time.sleep(1.0)
        with running_server(db, port=port), Client(url) as again:
            again.write_logs(run_id, [{"message": "one"}, {"message": "two",
                                                           "task_slug": "a-1"}])
            again.set_task_run_states(run_id, [
                {"task_slug": "a-1", "state": "Success"},
                {"task_slug": "b-1", "map_index": 0, "state": "Failed", "message": "boom"}],
                lease_id=lease)
            again.set_flow_run_state(run_id, "Failed", "b failed", lease_id=lease)
            follower.join(timeout=30)
    assert not follower.is_alive()
    assert [describe(e) for e in seen] == EXPECTED
    assert [e.seq for e in seen] == list(range(1, len(EXPECTED) + 1))


def test_the_list_feed_says_ready_then_sends_each_change(backend: Client) -> None:
    feed = backend.follow_changes()
    ready = next(feed)
    assert ready.kind == "ready" and ready.change is None
    flow = backend.register_flow("feed", spec_json("feed"))
    run = backend.create_flow_run(flow.id)
    agent = backend.register_agent("feed-agent", labels=["x"])
    got = [next(feed) for _ in range(3)]
    assert [(e.kind, e.change and e.change.id) for e in got] == [
        ("flow", flow.id), ("flow_run", run.id), ("agent", agent.id)]
    assert got[1].change is not None and got[1].change.flow_run is not None
    assert got[1].change.flow_run.state == "Scheduled"
    assert got[2].change is not None and got[2].change.agent is not None
    assert got[2].change.agent.labels == ["x"]
    # reconnecting with the last id resumes; an id from another server is a reset
    resumed = backend.follow_changes(got[0].id)
    assert [e.kind for e in (next(resumed), next(resumed))] == ["flow_run", "agent"]
    assert next(backend.follow_changes("someone-else:3")).kind == "reset"


@pytest.mark.anyio
async def test_a_database_from_0_1_0_gets_its_events_numbered_in_time_order(tmp_path: Path
                                                                           ) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as connection:
        connection.executescript(LEGACY_SQL.read_text())
    async with in_process(Settings(database_url=f"sqlite:///{path}")) as http:
        page = (await http.get(f"/api/flow_runs/{LEGACY_DONE}/events")).json()
    items = page["items"]
    assert [e["seq"] for e in items] == list(range(1, 16)) and page["finished"]
    # numbered in time order (the fixture's task runs and logs carry their own timestamps)
    stamps = [datetime.fromisoformat(e["timestamp"]) for e in items]
    assert stamps == sorted(stamps)
    by_kind = {kind: [e for e in items if e["kind"] == kind]
               for kind in ("flow_run_state", "task_run_state", "log")}
    assert [e["state"] for e in by_kind["flow_run_state"]] == [
        "Scheduled", "Submitted", "Running", "Success"]
    assert len(by_kind["task_run_state"]) == 7 and len(by_kind["log"]) == 4


def test_servers_on_one_postgresql_wake_each_other(pg_url: str) -> None:
    # a recheck and claim poll far longer than the test: only NOTIFY can deliver in time
    slow = {"stream_recheck_interval": 120, "claim_poll_interval": 120}
    with running_server(pg_url, **slow) as url_a, running_server(pg_url, **slow) as url_b, \
            Client(url_a) as a, Client(url_b) as b:
        flow = b.register_flow("pg-events", spec_json("pg-events"))
        agent = a.register_agent("pg-agent")
        claimed: list[object] = []
        waiting = threading.Thread(target=lambda: claimed.append(a.claim(agent.id, wait=30)))
        waiting.start()
        time.sleep(0.5)  # the claim is long-polling on server A
        started = time.monotonic()
        run = b.create_flow_run(flow.id)  # through server B
        waiting.join(timeout=20)
        assert claimed and claimed[0] is not None, "server A's claim never saw B's run"
        assert time.monotonic() - started < 20
        lease = claimed[0].lease.lease_id  # type: ignore[attr-defined]
        a.set_flow_run_state(run.id, "Running", lease_id=lease)

        seen: list[str] = []
        follower = threading.Thread(target=lambda: seen.extend(
            describe(e) for e in a.follow_run(run.id)))
        follower.start()
        time.sleep(0.5)
        b.write_logs(run.id, [{"message": "via b"}])
        b.set_flow_run_state(run.id, "Success", lease_id=lease)
        follower.join(timeout=20)
        assert not follower.is_alive(), "server A's stream never saw B's writes"
        assert seen == ["run:Scheduled", "run:Submitted", "run:Running", "log:via b",
                        "run:Success"]
