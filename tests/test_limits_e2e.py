"""Concurrency limits end to end: a real backend, local agents, flow-run processes.

How many held a slot at once is measured from the outside: for label limits from the
backend's own state history (a run holds its slot from Submitted to its final state), for
tag limits from the tasks' own side effects (each writes when it starts and ends).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_agent_e2e import FLOWS_SCRIPT, Backend, kill_strays, wait_for

from jupyter_flows.local_backend.processes import stop_processes
from jupyter_flows.server.testing import running_server

pytestmark = pytest.mark.slow

LIMITED_SCRIPT = '''
import os, time
from pathlib import Path
from jupyter_flows import (Flow, LocalDaskExecutor, LocalRun, Parameter, get_run_context, task,
                           unmapped)

MARKS = Path(os.environ["E2E_MARKS"])


def note(kind):
    ctx = get_run_context()
    name = f"{ctx.flow_run_id}-{ctx.task_slug}-{ctx.map_index}"
    with open(MARKS / "intervals", "a") as f:
        f.write(f"{kind} {name} {time.time():.6f} {os.getpid()}\\n")


@task
def short(seconds):
    note("start")
    time.sleep(seconds)
    note("end")


with Flow("labelled", run_config=LocalRun(labels=["db"])) as labelled:
    short(Parameter("seconds", default=0.2))


@task(tags=["warehouse"])
def query(i, seconds):
    note("start")
    time.sleep(seconds)
    note("end")
    return i


with Flow("tagged", executor=LocalDaskExecutor("threads", num_workers=4)) as tagged:
    query.map(list(range(4)), seconds=unmapped(Parameter("seconds", default=0.4)))
'''

FINAL = {"Success", "Failed", "Crashed", "Cancelled"}


def max_overlap(intervals: list[tuple[float, float]]) -> int:
    """The most intervals open at one time (an end at t closes before a start at t)."""
    points = sorted([(start, 1) for start, _ in intervals] +
                    [(end, -1) for _, end in intervals], key=lambda p: (p[0], p[1]))
    open_now = most = 0
    for _, step in points:
        open_now += step
        most = max(most, open_now)
    return most


def task_intervals(marks: Path) -> list[tuple[float, float]]:
    starts: dict[str, float] = {}
    intervals = []
    for line in (marks / "intervals").read_text().splitlines():
        kind, name, when, _ = line.split()
        if kind == "start":
            starts[name] = float(when)
        else:
            intervals.append((starts.pop(name), float(when)))
    assert not starts, f"task runs that never ended: {starts}"
    return intervals


@pytest.fixture
def limited(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Backend]:
    """A backend (SQLite, or PostgreSQL for a test given ``database="postgresql"``) with
    the flows above registered; a lease of 3 s unless marked ``lease_timeout(N)``."""
    callspec = getattr(request.node, "callspec", None)
    database = callspec.params.get("database", "sqlite") if callspec else "sqlite"
    url = request.getfixturevalue("pg_url") if database == "postgresql" else None
    marks = tmp_path / "marks"
    marks.mkdir()
    marker = request.node.get_closest_marker("lease_timeout")
    with running_server(url or tmp_path / "backend.db",
                        lease_timeout=marker.args[0] if marker else 3, sweep_interval=0.5,
                        agent_timeout=10) as server:
        env = {**os.environ, "JUPYTER_FLOWS_BACKEND_URL": server, "E2E_MARKS": str(marks),
               "HOME": str(tmp_path), "JUPYTER_FLOWS_HEARTBEAT_INTERVAL": "0.5"}
        env.pop("JUPYTER_FLOWS_API_KEY", None)
        b = Backend(tmp_path, server, env)
        for name, text in (("flows.py", FLOWS_SCRIPT), ("limited.py", LIMITED_SCRIPT)):
            (tmp_path / name).write_text(text)
            b.cli("register", str(tmp_path / name))
        try:
            yield b
        finally:
            stop_processes(*b.agents)
            kill_strays(marks)
            b.client.close()


def finish_all(b: Backend, runs: list[str], timeout: float) -> None:
    def done() -> bool:
        return all(b.run_state(r) in FINAL for r in runs)
    wait_for(done, timeout, f"{len(runs)} runs to finish")


@pytest.mark.lease_timeout(30)
@pytest.mark.timeout(600)
@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_three_agents_never_run_more_than_the_labels_limit(limited: Backend,
                                                           database: str) -> None:
    limited.cli("limits", "set", "db", "2")
    for i in range(3):
        limited.start_agent("db", name=f"agent-{i}", concurrency=4)
    runs = [limited.client.create_flow_run(flow_name="labelled").id for _ in range(30)]
    finish_all(limited, runs, 420)
    assert {limited.run_state(r) for r in runs} == {"Success"}
    held = []
    for run in runs:
        history = limited.client.get_flow_run_states(run)
        claimed = next(s.timestamp for s in history if s.state == "Submitted")
        ended = next(s.timestamp for s in history if s.state in FINAL)
        held.append((claimed.timestamp(), ended.timestamp()))
    assert max_overlap(held) == 2  # the limit was reached, and never passed
    assert len({limited.client.get_flow_run(r).agent_name for r in runs}) >= 2
    listed = limited.cli("limits", "ls").stdout
    assert "db" in listed and "label" in listed


@pytest.mark.lease_timeout(30)
@pytest.mark.timeout(600)
def test_task_runs_of_a_limited_tag_never_exceed_it_across_runs(limited: Backend) -> None:
    limited.cli("limits", "set", "warehouse", "2", "--tag")
    for i in range(2):
        limited.start_agent(name=f"agent-{i}", concurrency=2)
    runs = [limited.client.create_flow_run(flow_name="tagged").id for _ in range(3)]
    finish_all(limited, runs, 300)
    assert {limited.run_state(r) for r in runs} == {"Success"}
    intervals = task_intervals(limited.tmp / "marks")
    assert len(intervals) == 12
    assert max_overlap(intervals) == 2
    assert limited.client.list_limits()[0].in_use == 0


def holder_pid(marks: Path) -> int:
    def started() -> int | None:
        path = marks / "intervals"
        lines = path.read_text().splitlines() if path.exists() else []
        return int(lines[0].split()[3]) if lines else None
    return wait_for(started, 60, "the first task run to start")


@pytest.mark.timeout(300)
def test_a_killed_holder_frees_its_tag_slot(limited: Backend) -> None:
    """Lease 3 s, sweep 0.5 s: the agent sees its flow-run process die, the run is Crashed,
    and the waiting run's task goes; bounded by the lease timeout plus the sweep."""
    limited.client.set_limit("warehouse", 1, kind="tag")
    limited.start_agent(concurrency=2)
    holder = limited.client.create_flow_run(flow_name="tagged", parameters={"seconds": 60})
    pid = holder_pid(limited.tmp / "marks")
    waiting = limited.client.create_flow_run(flow_name="tagged", parameters={"seconds": 0})

    def says_it_waits() -> bool:
        return any("waiting for a slot" in (t.message or "")
                   for t in limited.client.get_task_runs(waiting.id))
    wait_for(says_it_waits, 60, "the second run's task run to say it waits for a slot")
    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    assert limited.wait_state(holder.id, FINAL, timeout=30).state == "Crashed"
    assert limited.wait_state(waiting.id, FINAL, timeout=60).state == "Success"
    assert time.monotonic() - killed < 3 + 0.5 + 20  # lease + sweep, slack for a busy box


@pytest.mark.timeout(300)
def test_a_run_held_back_by_a_label_says_so_and_goes_when_the_holder_is_killed(
        limited: Backend) -> None:
    limited.cli("limits", "set", "db", "1")
    limited.start_agent("db", concurrency=2)
    holder = limited.client.create_flow_run(flow_name="labelled", parameters={"seconds": 60})
    pid = holder_pid(limited.tmp / "marks")
    out = limited.cli("run", "labelled", "--name", "second").stdout
    waiting = out.split()[2]
    assert "note: waiting for a slot: runs with label 'db' are limited to 1" in out
    time.sleep(1)  # the agent polls: it still may not take the run
    run = limited.client.get_flow_run(waiting)
    assert run.state == "Scheduled" and run.name == "second"
    assert run.waiting_for == ("waiting for a slot: runs with label 'db' are limited to 1 at "
                               "once (1 hold one)")
    os.kill(pid, signal.SIGKILL)
    assert limited.wait_state(holder.id, FINAL, timeout=30).state == "Crashed"
    assert limited.wait_state(waiting, FINAL, timeout=60).state == "Success"
    assert limited.client.get_flow_run(waiting).waiting_for is None
    limited.cli("limits", "rm", "db")
    assert limited.client.list_limits() == []
