"""Cancel that stops the work, end to end with real processes: a uvicorn backend on a SQLite
file, a local agent and its flow-run processes as subprocesses.

Each task of the flows below writes a side-effect file when it starts (with the time) and
one when it ends; a cancel must end the run Cancelled quickly, with no task started after
the cancel and no task run left Running. A flow-run process that swallows the interrupt is
killed by its agent after the grace period.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_flows.client.client import Client
from jupyter_flows.errors import ConflictError
from jupyter_flows.local_backend.processes import stop_processes
from jupyter_flows.server.testing import running_server

pytestmark = pytest.mark.slow

FLOWS_SCRIPT = '''
import os, time
from pathlib import Path
from jupyter_flows import Flow, Parameter, task, unmapped

MARKS = Path(os.environ["CANCEL_MARKS"])


def _mark(tag, name):
    folder = MARKS / tag
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(f"{time.time()!r} {os.getpid()}")


@task
def step(i, seconds, tag, after=None):
    """Python code that sleeps in small steps, so an interrupt stops it at once."""
    _mark(tag, f"start-{i}")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.02)
    _mark(tag, f"done-{i}")
    return i


with Flow("chain") as chain:
    tag, seconds = Parameter("tag", default="chain"), Parameter("seconds", default=2.0)
    previous = None
    for i in range(12):
        previous = step(i, seconds, tag, after=previous)


with Flow("fan") as fan:
    step.map(list(range(24)), unmapped(Parameter("seconds", default=2.0)),
             unmapped(Parameter("tag", default="fan")))


@task
def stubborn(tag):
    """Swallows every interrupt: only a kill stops it."""
    _mark(tag, "start-0")
    while True:
        try:
            time.sleep(0.1)
        except BaseException:
            pass


with Flow("stubborn") as stubborn_flow:
    stubborn(Parameter("tag", default="stubborn"))
'''


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


class Setup:
    def __init__(self, tmp: Path, url: str, env: dict[str, str]) -> None:
        self.tmp, self.url, self.env = tmp, url, env
        self.marks = tmp / "marks"
        self.client = Client(url)
        self.agents: list[subprocess.Popen[bytes]] = []

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        out = subprocess.run([sys.executable, "-m", "jupyter_flows", *args], env=self.env,
                             capture_output=True, text=True, timeout=120, check=False)
        assert out.returncode == 0, f"{args} exited {out.returncode}:\n{out.stdout}\n{out.stderr}"
        return out

    def start_agent(self, *extra: str) -> None:
        args = [sys.executable, "-m", "jupyter_flows", "agent", "local", "start", "--name",
                "agent", "--poll-wait", "1", "--log-dir", str(self.tmp / "run-logs"), *extra]
        self.agents.append(subprocess.Popen(args, env=self.env, stdout=subprocess.DEVNULL,
                                            stderr=open(self.tmp / "agent.log", "ab")))  # noqa: SIM115

    def starts(self, tag: str) -> list[tuple[float, int]]:
        """(time, pid) of each task start of the run tagged ``tag``."""
        out = []
        for path in (self.marks / tag).glob("start-*"):
            when, pid = path.read_text().split()
            out.append((float(when), int(pid)))
        return sorted(out)

    def wait_state(self, run_id: str, states: set[str], timeout: float) -> Any:
        return wait_for(lambda: (run := self.client.get_flow_run(run_id)).state in states
                        and run, timeout, f"run {run_id} in {states}")


@pytest.fixture
def setup(tmp_path: Path) -> Iterator[Setup]:
    (tmp_path / "marks").mkdir()
    script = tmp_path / "flows.py"
    script.write_text(FLOWS_SCRIPT)
    # a lease that outlasts a busy machine's pauses: no crash is wanted here
    with running_server(tmp_path / "backend.db", lease_timeout=20, sweep_interval=0.5,
                        agent_timeout=10) as url:
        env = {**os.environ, "JUPYTER_FLOWS_BACKEND_URL": url, "HOME": str(tmp_path),
               "CANCEL_MARKS": str(tmp_path / "marks"),
               # the heartbeat is only the fallback path: keep it slow so the test shows
               # the events stream delivers the cancel
               "JUPYTER_FLOWS_HEARTBEAT_INTERVAL": "5"}
        env.pop("JUPYTER_FLOWS_API_KEY", None)
        s = Setup(tmp_path, url, env)
        s.cli("register", str(script))
        try:
            yield s
        finally:
            stop_processes(*s.agents)
            for tag in (tmp_path / "marks").iterdir():
                for _, pid in s.starts(tag.name):
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(pid, 9)
            s.client.close()


def cancel_while_running(s: Setup, flow_name: str, tag: str, executor: dict[str, Any],
                         started: int) -> tuple[Any, float, float]:
    """Start a run, cancel it once ``started`` tasks have started; returns the final run,
    the cancel's time and how long Cancelled took."""
    run = s.client.create_flow_run(flow_name=flow_name, parameters={"tag": tag},
                                   executor=executor)
    s.wait_state(run.id, {"Running"}, 60)
    wait_for(lambda: len(s.starts(tag)) >= started, 60, f"{started} started task(s)")
    cancelled_at = time.time()
    t0 = time.monotonic()
    asked = s.client.cancel_flow_run(run.id[:8])
    assert asked.state in ("Cancelling", "Cancelled")
    final = s.wait_state(run.id, {"Cancelled", "Success", "Failed", "Crashed"}, 30)
    return final, cancelled_at, time.monotonic() - t0


@pytest.mark.parametrize("executor", [
    {"type": "local"},
    {"type": "local-dask", "scheduler": "threads", "num_workers": 2},
    # a LocalCluster of the flow-run process (threads): cancels its Dask futures
    {"type": "dask", "cluster_kwargs": {"n_workers": 1, "threads_per_worker": 2,
                                        "processes": False, "dashboard_address": None}},
], ids=["LocalExecutor", "LocalDaskExecutor-threads", "DaskExecutor"])
def test_cancel_stops_a_running_flow_run(setup: Setup, executor: dict[str, Any]) -> None:
    s = setup
    s.start_agent()
    flow, tag = ("chain", "chain") if executor["type"] == "local" else ("fan", "fan")
    final, cancelled_at, took = cancel_while_running(s, flow, tag, executor, started=2)
    assert final.state == "Cancelled", final.state_message
    assert took < 10, f"Cancelled {took:.1f} s after the cancel"
    assert final.state_message.startswith("cancelled on request (seen through the events "
                                          "stream)"), final.state_message
    history = [h.state for h in s.client.get_flow_run_states(final.id)]
    assert history[-2:] == ["Cancelling", "Cancelled"]
    late = [when for when, _ in s.starts(tag) if when > cancelled_at]
    assert late == [], f"{len(late)} task(s) started after the cancel"
    task_runs = s.client.get_task_runs(final.id)
    assert task_runs and not [t for t in task_runs if t.state in ("Running", "Pending")]
    assert any(t.state == "Cancelled" for t in task_runs)
    # ... and the flow-run process has gone
    [pid] = {p for _, p in s.starts(tag)}  # the tasks ran in the flow-run process
    wait_for(lambda: not _alive(pid), 10, f"flow-run process {pid} to exit")


def test_cancel_of_a_scheduled_run_and_of_a_finished_one(setup: Setup) -> None:
    s = setup  # no agent: the run stays Scheduled
    run = s.client.create_flow_run(flow_name="chain", parameters={"tag": "never"})
    done = s.client.cancel_flow_run(run.id)
    assert (done.state, done.state_message) == ("Cancelled", "cancelled before it started")
    with pytest.raises(ConflictError, match="is already Cancelled"):
        s.client.cancel_flow_run(run.id)
    out = subprocess.run([sys.executable, "-m", "jupyter_flows", "cancel", run.id[:8]],
                         env=s.env, capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 1
    assert "a finished run cannot be cancelled" in out.stderr + out.stdout


def test_a_process_that_ignores_the_cancel_is_killed_after_the_grace(setup: Setup) -> None:
    s = setup
    s.start_agent("--cancel-grace", "2")
    run = s.client.create_flow_run(flow_name="stubborn", parameters={"tag": "stubborn"})
    wait_for(lambda: s.starts("stubborn"), 60, "the stubborn task to start")
    [(_, pid)] = s.starts("stubborn")
    t0 = time.monotonic()
    s.client.cancel_flow_run(run.id)
    time.sleep(1.0)
    assert s.client.get_flow_run(run.id).state == "Cancelling"  # it ignored the interrupt
    final = s.wait_state(run.id, {"Cancelled", "Crashed", "Failed"}, 40)
    took = time.monotonic() - t0
    assert final.state == "Cancelled"
    assert "after 2 s grace" in final.state_message and "killed" in final.state_message
    assert took >= 2.0  # not before the grace ran out
    wait_for(lambda: not _alive(pid), 10, f"flow-run process {pid} to be gone")
    states = {t.task_slug: t.state for t in s.client.get_task_runs(final.id)}
    assert states == {"tag": "Success", "stubborn-1": "Cancelled"}  # marked by the backend


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie counts as gone
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1].split()[0] != "Z"
    except OSError:
        return False
