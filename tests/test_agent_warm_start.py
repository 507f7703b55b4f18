"""``agent local start --warm-start``: runs forked from a pre-imported forkserver are still
runs of their own (session, environment, working directory and its imports, log file),
a run whose start-up environment differs gets a fresh process, a dead forkserver is
started again, and a warm run that ignores a cancel is killed after the grace.
(The warm variants of the agent's end-to-end tests are in test_agent_e2e.py.)"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_agent_e2e import Backend, wait_for

from jupyter_flows.local_backend.processes import stop_processes
from jupyter_flows.server.testing import running_server

pytestmark = pytest.mark.slow

FLOWS = '''
import json, os, time
from pathlib import Path
from jupyter_flows import Flow, LocalRun, task

WORKDIR = os.environ["WARM_WORKDIR"]


@task
def where():
    import helper_in_workdir  # importable only from the run's working directory
    print("hello from the run's process")
    facts = {"pid": os.getpid(), "ppid": os.getppid(), "sid": os.getsid(0),
             "cwd": os.getcwd(), "greeting": os.environ.get("GREETING"),
             "hashseed": os.environ.get("PYTHONHASHSEED"), "helper": helper_in_workdir.VALUE}
    marks = Path(os.environ["WARM_MARKS"])
    (marks / (os.environ["JUPYTER_FLOWS_FLOW_RUN_ID"] + ".json")).write_text(json.dumps(facts))


@task
def stubborn():
    (Path(os.environ["WARM_MARKS"]) / "stubborn.pid").write_text(str(os.getpid()))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            time.sleep(0.05)
        except BaseException:  # swallows the cancel's interrupt: only a kill stops it
            pass


with Flow("where", run_config=LocalRun(env={"GREETING": "hi"}, working_dir=WORKDIR)) as f1:
    where()

with Flow("where-fresh", run_config=LocalRun(env={"PYTHONHASHSEED": "7"},
                                             working_dir=WORKDIR)) as f2:
    where()

with Flow("stubborn") as f3:
    stubborn()
'''


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[Backend]:
    marks, workdir = tmp_path / "marks", tmp_path / "workdir"
    marks.mkdir()
    workdir.mkdir()
    (workdir / "helper_in_workdir.py").write_text("VALUE = 'from the working dir'\n")
    script = tmp_path / "flows.py"
    script.write_text(FLOWS)
    with running_server(tmp_path / "backend.db", lease_timeout=20, sweep_interval=0.5,
                        agent_timeout=10) as url:
        env = {**os.environ, "JUPYTER_FLOWS_BACKEND_URL": url, "WARM_MARKS": str(marks),
               "WARM_WORKDIR": str(workdir), "HOME": str(tmp_path),
               "JUPYTER_FLOWS_HEARTBEAT_INTERVAL": "0.5"}
        env.pop("JUPYTER_FLOWS_API_KEY", None)
        env.pop("PYTHONHASHSEED", None)
        b = Backend(tmp_path, url, env)
        b.warm = True
        b.cli("register", str(script))
        try:
            yield b
        finally:
            stop_processes(*b.agents)
            b.client.close()


def gone_or_zombie(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().split()[2] == "Z"
    except FileNotFoundError:
        return True


def run_and_read(b: Backend, flow: str) -> tuple[Any, dict[str, Any]]:
    run = b.client.create_flow_run(flow_name=flow)
    final = b.wait_state(run.id, {"Success", "Failed", "Crashed"}, timeout=90)
    assert final.state == "Success", final.state_message
    return final, json.loads((b.tmp / "marks" / f"{run.id}.json").read_text())


def test_a_warm_run_is_a_process_of_its_own_with_the_runs_env_and_dir(backend: Backend
                                                                      ) -> None:
    agent = backend.start_agent()
    run, facts = run_and_read(backend, "where")
    assert facts["sid"] == facts["pid"]  # leads its own session: a kill reaches its group
    assert facts["ppid"] != agent.pid  # forked from the forkserver, not started by the agent
    assert facts["cwd"] == str(backend.tmp / "workdir")
    assert facts["helper"] == "from the working dir"
    assert facts["greeting"] == "hi" and facts["hashseed"] is None
    log_file = (backend.tmp / "run-logs" / f"{run.id}.log").read_text()
    assert run.id in log_file  # the process's output went to the run's log file
    stored = [r.message for r in backend.client.read_logs(run.id).items]
    assert "hello from the run's process" in stored

    # the same flow again: the same forkserver forks it
    _, again = run_and_read(backend, "where")
    assert again["ppid"] == facts["ppid"] and again["pid"] != facts["pid"]


def test_a_run_that_sets_interpreter_variables_gets_a_fresh_process(backend: Backend) -> None:
    agent = backend.start_agent()
    _, facts = run_and_read(backend, "where-fresh")
    assert facts["ppid"] == agent.pid  # started by the agent, as without --warm-start
    assert facts["hashseed"] == "7" and facts["helper"] == "from the working dir"


def test_a_dead_forkserver_is_started_again(backend: Backend) -> None:
    backend.start_agent()
    _, first = run_and_read(backend, "where")
    os.kill(first["ppid"], signal.SIGKILL)
    _, second = run_and_read(backend, "where")
    assert second["ppid"] not in (first["ppid"], backend.agents[0].pid)


def test_a_warm_run_that_ignores_the_cancel_is_killed_after_the_grace(backend: Backend
                                                                     ) -> None:
    backend.agents.append(subprocess.Popen(  # the grace is the agent's: 2 s here
        [sys.executable, "-m", "jupyter_flows", "agent", "local", "start", "--poll-wait", "2",
         "--warm-start", "--cancel-grace", "2"], env=backend.env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL))
    run = backend.client.create_flow_run(flow_name="stubborn")
    pid_file = backend.tmp / "marks" / "stubborn.pid"
    wait_for(pid_file.exists, 90, "the stubborn task to start")
    backend.client.cancel_flow_run(run.id)
    final = backend.wait_state(run.id, {"Cancelled", "Success", "Failed", "Crashed"},
                               timeout=60)
    assert final.state == "Cancelled"
    assert "killed by the local agent" in (final.state_message or "")
    pid = int(pid_file.read_text())
    wait_for(lambda: gone_or_zombie(pid), 10, "the process to die")
