"""Restarting a failed run, end to end with real processes: a uvicorn backend on a SQLite
file, a local agent and its flow-run processes as subprocesses, checkpoints on disk.

Each task appends a line to a file whenever it runs, so the tests count what ran across the
attempts of one run: after a restart only what failed runs again, with the results of the
rest loaded from their checkpoints (the default location, under the agent's home).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_agent_e2e import Backend

from jupyter_flows.local_backend.processes import stop_processes
from jupyter_flows.server.testing import running_server

pytestmark = pytest.mark.slow

FLOWS_SCRIPT = '''
import os
from pathlib import Path
from jupyter_flows import Flow, task

MARKS = Path(os.environ["E2E_MARKS"])


def ran(name, line="ran"):
    with open(MARKS / f"{name}.runs", "a") as f:
        f.write(f"{line}\\n")


@task
def a():
    ran("a")
    return 20


@task
def b(x):
    ran("b")
    if not (MARKS / "fixed").exists():
        raise RuntimeError("the input file is not there yet")
    return x + 1


@task
def c(y):
    ran("c")
    return y * 2


with Flow("abc") as abc:
    c(b(a()))


@task
def m(i):
    ran("m", str(i))
    if i in (1, 3) and not (MARKS / "fixed").exists():
        raise ValueError(f"element {i} is bad")
    return i * 10


@task
def add_up(xs):
    ran("add_up")
    return sum(xs)


with Flow("fan") as fan:
    add_up(m.map([0, 1, 2, 3]))
'''


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[Backend]:
    marks = tmp_path / "marks"
    marks.mkdir()
    script = tmp_path / "flows.py"
    script.write_text(FLOWS_SCRIPT)
    with running_server(tmp_path / "backend.db", lease_timeout=20, sweep_interval=0.5,
                        agent_timeout=10) as url:
        env = {**os.environ, "JUPYTER_FLOWS_BACKEND_URL": url, "E2E_MARKS": str(marks),
               "HOME": str(tmp_path), "JUPYTER_FLOWS_HEARTBEAT_INTERVAL": "0.5"}
        env.pop("JUPYTER_FLOWS_API_KEY", None)
        env.pop("JUPYTER_FLOWS_RESULTS", None)
        b = Backend(tmp_path, url, env)
        b.cli("register", str(script))
        b.start_agent()
        try:
            yield b
        finally:
            stop_processes(*b.agents)
            b.client.close()


def runs(b: Backend, name: str) -> list[str]:
    path = b.tmp / "marks" / f"{name}.runs"
    return path.read_text().split() if path.exists() else []


def failed_run(b: Backend, flow_name: str) -> str:
    run = b.client.create_flow_run(flow_name=flow_name)
    assert b.wait_state(run.id, {"Success", "Failed", "Crashed"}, timeout=90).state == "Failed"
    return run.id


def test_a_restarted_run_runs_only_what_failed_and_keeps_its_id(backend: Backend) -> None:
    run_id = failed_run(backend, "abc")
    states = {t.task_slug: t for t in backend.client.get_task_runs(run_id)}
    assert {s: t.state for s, t in states.items()} == {
        "a-1": "Success", "b-1": "Failed", "c-1": "TriggerFailed"}
    # checkpointed by default, under the agent's home (HOME is the test's directory)
    location = states["a-1"].location
    assert location and location.startswith(str(backend.tmp / ".jupyter-flows" / "results"))
    assert Path(location).is_file()

    (backend.tmp / "marks" / "fixed").touch()
    out = backend.cli("restart", run_id[:8], "--watch")  # the CLI, by an id prefix
    assert f"flow run {run_id} of 'abc' is Scheduled: restarted (attempt 2)" in out.stdout
    run = backend.client.get_flow_run(run_id)
    assert (run.id, run.state, run.run_count) == (run_id, "Success", 2)
    assert (runs(backend, "a"), runs(backend, "b"), runs(backend, "c")) == (
        ["ran"], ["ran", "ran"], ["ran"])
    history = [(s.state, s.message) for s in backend.client.get_flow_run_states(run_id)]
    assert [s for s, _ in history] == ["Scheduled", "Submitted", "Running", "Failed",
                                       "Scheduled", "Submitted", "Running", "Success"]
    assert history[4][1] == "restarted (attempt 2): 2 task run(s) to run again, 1 kept"
    logs = [r.message for r in backend.client.read_logs(run_id, limit=500).items]
    assert any("1 task(s) kept from an earlier attempt: a-1" in m for m in logs), logs

    # a run that succeeded is refused, naming its state
    refused = backend.cli("restart", run_id, check=False)
    assert refused.returncode != 0
    assert f"flow run {run_id} is Success: it succeeded" in refused.stderr


def test_only_the_failed_children_of_a_map_run_again(backend: Backend) -> None:
    run_id = failed_run(backend, "fan")
    assert sorted(runs(backend, "m")) == ["0", "1", "2", "3"]
    (backend.tmp / "marks" / "fixed").touch()
    run = backend.client.restart_flow_run(run_id)  # the client method
    assert (run.id, run.state) == (run_id, "Scheduled")
    assert run.state_message == (  # m[0], m[2] and the constant list
        "restarted (attempt 2): 4 task run(s) to run again, 3 kept")
    assert backend.wait_state(run_id, {"Success", "Failed"}, timeout=90).state == "Success"
    assert sorted(runs(backend, "m")) == ["0", "1", "1", "2", "3", "3"]
    assert runs(backend, "add_up") == ["ran"]
    children = {t.map_index: t.state for t in backend.client.get_task_runs(run_id)
                if t.task_slug == "m-1"}
    assert children == {None: "Mapped", 0: "Success", 1: "Success", 2: "Success",
                        3: "Success"}


def test_a_lost_checkpoint_fails_the_restart_saying_how_to_rerun_the_task(
        backend: Backend) -> None:
    run_id = failed_run(backend, "abc")
    location = next(t.location for t in backend.client.get_task_runs(run_id)
                    if t.task_slug == "a-1")
    assert location is not None
    Path(location).unlink()
    (backend.tmp / "marks" / "fixed").touch()
    backend.client.restart_flow_run(run_id)
    run = backend.wait_state(run_id, {"Success", "Failed"}, timeout=90)
    assert run.state == "Failed"
    assert run.state_message == (
        f"cannot restart flow run {run_id}: the checkpointed result of task 'a-1' cannot be "
        f"loaded: no result at {location}; run that task again with "
        f"`jupyter-flows restart {run_id} --from a-1`")
    assert runs(backend, "b") == ["ran"]  # nothing was recomputed silently

    # the advice works: a runs again, and so does everything downstream of it
    out = backend.cli("restart", run_id, "--from", "a-1", "--watch")
    assert "restarted (attempt 3) from task 'a-1'" in out.stdout
    assert backend.client.get_flow_run(run_id).state == "Success"
    assert (runs(backend, "a"), runs(backend, "b"), runs(backend, "c")) == (
        ["ran", "ran"], ["ran", "ran"], ["ran"])
