"""Exactly-once claims and long-polls against real uvicorn servers on 127.0.0.1."""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from contextlib import ExitStack

import pytest

from jupyter_flows.client import Client
from jupyter_flows.client.testing import finishing_agent
from jupyter_flows.local_backend import LocalBackend
from jupyter_flows.server.testing import (
    RecordingTransport,
    running_server,
)

RUNS = 120
AGENTS = 4


@pytest.mark.slow
@pytest.mark.parametrize("servers", [1, 2], ids=["one-server", "two-servers-one-sqlite-file"])
def test_every_run_is_claimed_exactly_once(tmp_path, servers):
    database = tmp_path / "backend.db"
    with ExitStack() as stack:
        urls = [stack.enter_context(running_server(database)) for _ in range(servers)]
        transports = [RecordingTransport() for _ in range(AGENTS + 1)]
        creator = stack.enter_context(Client(urls[0], transport=transports[-1]))
        flow = creator.register_flow("many", {"tasks": []}, labels=["shared"])
        run_ids = [creator.create_flow_run(flow.id).id for _ in range(RUNS // 2)]

        done = threading.Event()
        claimed: list[list[str]] = [[] for _ in range(AGENTS)]
        errors: list[BaseException] = []
        threads = [threading.Thread(target=finishing_agent,
                                    args=(urls[i % servers], f"agent-{i}", ["shared"], done,
                                          claimed[i], errors, transports[i]))
                   for i in range(AGENTS)]
        for thread in threads:
            thread.start()
        # the other half arrives while the agents are claiming
        run_ids += [creator.create_flow_run(flow.id).id for _ in range(RUNS - RUNS // 2)]
        deadline = time.monotonic() + 60
        while creator.list_flow_runs(flow.id, state="Success", limit=1).total < RUNS:
            assert time.monotonic() < deadline and not errors, errors
            time.sleep(0.1)
        done.set()
        for thread in threads:
            thread.join(timeout=30)

        assert not errors, errors
        everything = [run_id for got in claimed for run_id in got]
        assert len(everything) == RUNS and sorted(everything) == sorted(run_ids)
        assert all(got for got in claimed), [len(got) for got in claimed]  # all took part
        statuses = sum((t.statuses for t in transports), Counter())
        assert not [code for code in statuses if code >= 500], statuses
        runs = creator.list_flow_runs(flow.id, limit=500).items
        assert {(r.state, r.run_count, r.version) for r in runs} == {("Success", 1, 4)}


@pytest.mark.slow
def test_long_poll_returns_soon_after_a_run_is_created(tmp_path):
    with running_server(tmp_path / "backend.db") as url, Client(url) as client:
        flow = client.register_flow("poll", {"tasks": []})
        agent = client.register_agent("poller")
        result: dict[str, object] = {}

        def wait_for_claim() -> None:
            result["claim"] = client.claim(agent.id, wait=10)
            result["at"] = time.monotonic()

        waiter = threading.Thread(target=wait_for_claim)
        waiter.start()
        time.sleep(0.5)  # the claim is waiting on the server by now
        created_at = time.monotonic()
        run = client.create_flow_run(flow.id)
        waiter.join(timeout=15)
        latency = float(result["at"]) - created_at  # type: ignore[arg-type]
        assert result["claim"] is not None
        assert result["claim"].flow_run.id == run.id  # type: ignore[attr-defined]
        assert latency < 5, latency


@pytest.mark.slow
def test_stopping_the_server_answers_waiting_claims_at_once(tmp_path):
    backend = LocalBackend(tmp_path / "b.db", agent=False, output=None).start()
    process, url = backend.server, backend.url
    assert process is not None
    try:
        with Client(url) as client:
            agent = client.register_agent("waiting")
            result: list[object] = []
            waiter = threading.Thread(target=lambda: result.append(client.claim(agent.id, 20)))
            waiter.start()
            time.sleep(0.5)
            started = time.monotonic()
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=15) in (0, -signal.SIGTERM)  # uvicorn re-raises it
            waiter.join(timeout=15)
            assert time.monotonic() - started < 2  # not the 20 s of the wait
            assert result == [None]  # a clean 204, not an error
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
