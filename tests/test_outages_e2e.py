"""Outages and crashes end to end (issues 19 and 11): a real uvicorn backend killed with
SIGKILL and started again on the same port and database, a real local agent, real flow-run
processes. Each run must execute exactly once (counted from its tasks' side-effect files)
and succeed; a killed flow-run process must be seen Crashed at once.

A flow-run process is made slow to start by a ``sitecustomize`` on its PYTHONPATH that
sleeps before anything else runs (only the first process of each run, and only processes
an agent launched: they alone have ``JUPYTER_FLOWS_FLOW_RUN_ID``).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_agent_e2e import (  # noqa: F401 (backend: the fixture)
    FLOWS_SCRIPT,
    Backend,
    _started_pid,
    backend,
    kill_strays,
    wait_for,
)

from jupyter_flows.local_backend import LocalBackend
from jupyter_flows.local_backend.processes import stop_processes
from jupyter_flows.server.returns import RETURN_PREFIX
from jupyter_flows.server.testing import free_port

pytestmark = pytest.mark.slow

FINAL = {"Success", "Failed", "Crashed", "Cancelled"}

SLOW_START = '''
import os, time
from pathlib import Path

_run = os.environ.get("JUPYTER_FLOWS_FLOW_RUN_ID")
_marks = os.environ.get("E2E_START_MARKS")
if _run and _marks:
    Path(_marks).mkdir(parents=True, exist_ok=True)
    try:  # only the first process of a run is slow
        fd = os.open(os.path.join(_marks, _run), os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        pass
    else:
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
        time.sleep(float(os.environ.get("E2E_START_DELAY", "0")))
'''


class Server:
    """A backend server process on a fixed port and database that can be killed and
    started again."""

    def __init__(self, db: Path, port: int, settings: dict[str, Any]) -> None:
        self.db, self.port, self.settings = db, port, settings
        self.backend: LocalBackend | None = None

    def start(self) -> str:
        self.backend = LocalBackend(self.db, port=self.port, agent=False,
                                    settings=self.settings, output=None).start(60)
        return self.backend.url

    def kill(self) -> None:
        assert self.backend is not None and self.backend.server is not None
        self.backend.server.send_signal(signal.SIGKILL)
        self.backend.server.wait(timeout=30)
        self.backend = None

    def stop(self) -> None:
        if self.backend is not None:
            self.backend.stop(timeout=10)
            self.backend = None


@pytest.fixture
def world(tmp_path: Path) -> Iterator[tuple[Server, Backend]]:
    """A killable server (lease 3 s, start timeout 60 s) and a Backend helper whose agents
    start their flow-run processes 1.5 s late."""
    marks = tmp_path / "marks"
    marks.mkdir()
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(SLOW_START)
    script = tmp_path / "flows.py"
    script.write_text(FLOWS_SCRIPT)
    server = Server(tmp_path / "backend.db", free_port(),
                    {"lease_timeout": 3, "sweep_interval": 0.5, "start_timeout": 60})
    url = server.start()
    env = {**os.environ, "JUPYTER_FLOWS_BACKEND_URL": url, "E2E_MARKS": str(marks),
           "HOME": str(tmp_path), "JUPYTER_FLOWS_HEARTBEAT_INTERVAL": "0.5",
           "E2E_START_MARKS": str(tmp_path / "starts"), "E2E_START_DELAY": "1.5",
           "PYTHONPATH": os.pathsep.join([str(hook), os.environ.get("PYTHONPATH", "")])}
    env.pop("JUPYTER_FLOWS_API_KEY", None)
    b = Backend(tmp_path, url, env)
    b.cli("register", str(script))
    try:
        yield server, b
    finally:
        stop_processes(*b.agents)
        kill_strays(marks)
        b.client.close()
        server.stop()


def _history(b: Backend, run_id: str) -> list[str]:
    return [s.state for s in b.client.get_flow_run_states(run_id)]


def test_backend_killed_while_a_run_is_submitted_runs_it_exactly_once(world: Any) -> None:
    server, b = world
    b.start_agent()
    run = b.client.create_flow_run(flow_name="recorder", parameters={"tag": "submitted"})
    wait_for((b.tmp / "starts" / run.id).exists, 60, "the flow-run process to start")
    assert b.run_state(run.id) == "Submitted"
    server.kill()  # while the flow-run process is still starting
    time.sleep(4.0)  # longer than the lease
    server.start()
    final = b.wait_state(run.id, FINAL, timeout=90)
    assert (final.state, final.run_count) == ("Success", 1), _history(b, run.id)
    executed = (b.tmp / "marks" / "submitted.runs").read_text().split()
    assert executed == [run.id]
    assert _history(b, run.id) == ["Scheduled", "Submitted", "Running", "Success"]


def test_backend_killed_while_a_run_is_running_runs_it_exactly_once(world: Any) -> None:
    server, b = world
    b.start_agent()
    run = b.client.create_flow_run(flow_name="sleepy",
                                   parameters={"tag": "running", "seconds": 6})
    _started_pid(b, "running")
    assert b.run_state(run.id) == "Running"
    server.kill()
    time.sleep(4.0)  # longer than the lease: the outage is not held against it
    server.start()
    final = b.wait_state(run.id, FINAL, timeout=90)
    assert (final.state, final.run_count) == ("Success", 1), _history(b, run.id)
    tried = sorted(p.name for p in (b.tmp / "marks" / "running").iterdir())
    assert tried == ["done-1", "start-1"]  # its task ran once, to the end
    assert "Crashed" not in _history(b, run.id)


def test_a_claim_not_started_within_the_start_timeout_goes_back_without_a_retry(
        tmp_path: Path) -> None:
    """The first flow-run process takes 20 s to start against an 8 s start timeout: the claim
    goes back, a second process runs the run (its first and only run), and the first one is
    refused when it finally tries."""
    marks = tmp_path / "marks"
    marks.mkdir()
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(SLOW_START)
    script = tmp_path / "flows.py"
    script.write_text(FLOWS_SCRIPT)
    server = Server(tmp_path / "backend.db", free_port(),
                    {"lease_timeout": 3, "sweep_interval": 0.5, "start_timeout": 8})
    url = server.start()
    env = {**os.environ, "JUPYTER_FLOWS_BACKEND_URL": url, "E2E_MARKS": str(marks),
           "HOME": str(tmp_path), "JUPYTER_FLOWS_HEARTBEAT_INTERVAL": "0.5",
           "E2E_START_MARKS": str(tmp_path / "starts"), "E2E_START_DELAY": "20",
           "PYTHONPATH": os.pathsep.join([str(hook), os.environ.get("PYTHONPATH", "")])}
    env.pop("JUPYTER_FLOWS_API_KEY", None)
    b = Backend(tmp_path, url, env)
    try:
        b.cli("register", str(script))
        b.start_agent()
        run = b.client.create_flow_run(flow_name="recorder", parameters={"tag": "late"})
        final = b.wait_state(run.id, FINAL, timeout=90)
        assert (final.state, final.run_count, final.max_retries) == ("Success", 1, 0)
        history = b.client.get_flow_run_states(run.id)
        assert [s.state for s in history] == [
            "Scheduled", "Submitted", "Scheduled", "Submitted", "Running", "Success"]
        # returned by the start timeout, or sooner by its lease if a heartbeat was late
        assert (history[2].message or "").startswith(RETURN_PREFIX)
        # the slow first process wakes, is refused, and exits without touching the run
        first = int((tmp_path / "starts" / run.id).read_text())
        wait_for(lambda: not _alive(first), 60, "the first flow-run process to give up")
        assert (marks / "late.runs").read_text().split() == [run.id]
        assert b.run_state(run.id) == "Success"
    finally:
        stop_processes(*b.agents)
        b.client.close()
        server.stop()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie waiting for the agent to reap it counts as gone
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except OSError:
        return False


@pytest.mark.lease_timeout(30)  # the sweeper cannot be what notices: the agent must
def test_a_killed_flow_run_process_is_crashed_at_once(backend: Backend) -> None:  # noqa: F811
    args = [sys.executable, "-m", "jupyter_flows", "agent", "local", "start", "--name",
            "slow-poller", "--poll-wait", "10", "--log-dir", str(backend.tmp / "run-logs")]
    agent = subprocess.Popen(args, env=backend.env, stdout=subprocess.DEVNULL,
                             stderr=open(backend.tmp / "slow-poller.log", "ab"))  # noqa: SIM115
    backend.agents.append(agent)
    run = backend.client.create_flow_run(flow_name="sleepy", parameters={"tag": "k9-fast"})
    pid = _started_pid(backend, "k9-fast")
    time.sleep(0.5)  # the agent is in its claim long-poll (10 s) by now
    os.kill(pid, signal.SIGKILL)
    killed = time.monotonic()
    final = backend.wait_state(run.id, FINAL, timeout=30)
    seen = time.monotonic() - killed
    assert final.state == "Crashed" and final.exit_code == -9
    # typically well under 1 s; the bound is generous for a loaded machine
    assert seen < 5, f"Crashed {seen:.1f} s after the kill"
