"""End to end with real processes: a uvicorn backend on a SQLite file, local agents and
flow-run processes as subprocesses, flows registered from scripts through the CLI.

Faults are real too: ``kill -9`` of a flow-run process, of an agent, of both, and a
backend stopped and started again in the middle of a run.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_flows.client.client import Client
from jupyter_flows.errors import BackendError
from jupyter_flows.local_backend.processes import stop_processes
from jupyter_flows.server.testing import free_port, running_server

pytestmark = pytest.mark.slow

FLOWS_SCRIPT = '''
import os, time
from pathlib import Path
from jupyter_flows import Flow, Parameter, task, get_logger, get_run_context

MARKS = Path(os.environ["E2E_MARKS"])


@task
def numbers(n):
    print(f"counting to {n}")  # a plain print, no log_stdout: still reaches the run's logs
    return list(range(n))


@task(log_stdout=True)
def square(x):
    print(f"squaring {x}")
    return x * x


@task
def total(xs):
    get_logger().info("total is %s", sum(xs))
    return sum(xs)


with Flow("squares") as squares:
    total(square.map(numbers(Parameter("n", default=3))))


@task
def explode():
    raise ValueError("the source table is empty")


with Flow("broken") as broken:
    explode()


@task
def slow(seconds, tag):
    """Writes its pid and attempt number, then sleeps unless this attempt is told not to."""
    ctx = get_run_context()
    marks = MARKS / tag
    marks.mkdir(parents=True, exist_ok=True)
    attempt = len(list(marks.glob("start-*"))) + 1
    (marks / f"start-{attempt}").write_text(str(os.getpid()))
    if attempt == 1:
        time.sleep(seconds)
    (marks / f"done-{attempt}").write_text(ctx.flow_run_id)
    return attempt


with Flow("sleepy") as sleepy:
    slow(Parameter("seconds", default=60), Parameter("tag", default="sleepy"))


@task
def record(tag):
    ctx = get_run_context()
    with open(MARKS / f"{tag}.runs", "a") as f:
        f.write(ctx.flow_run_id + "\\n")


with Flow("recorder") as recorder:
    record(Parameter("tag", default="recorder"))
'''


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


class Backend:
    """A backend server plus helpers to drive it through the CLI and the client."""

    def __init__(self, tmp: Path, url: str, env: dict[str, str]) -> None:
        self.tmp = tmp
        self.url = url
        self.env = env
        self.client = Client(url)
        self.agents: list[subprocess.Popen[bytes]] = []
        self.warm = False
        """Start agents with ``--warm-start`` (runs forked from a pre-imported server)."""

    def cli(self, *args: str, timeout: float = 120, check: bool = True
            ) -> subprocess.CompletedProcess[str]:
        out = subprocess.run([sys.executable, "-m", "jupyter_flows", *args], env=self.env,
                             capture_output=True, text=True, timeout=timeout, check=False)
        if check and out.returncode != 0:
            raise AssertionError(f"jupyter-flows {' '.join(args)} exited {out.returncode}:\n"
                                 f"{out.stdout}\n{out.stderr}")
        return out

    def start_agent(self, *labels: str, name: str = "agent", concurrency: int = 4
                    ) -> subprocess.Popen[bytes]:
        args = [sys.executable, "-m", "jupyter_flows", "agent", "local", "start", "--name",
                name, "--poll-wait", "2", "--log-dir", str(self.tmp / "run-logs"),
                "--concurrency", str(concurrency), *(["--warm-start"] if self.warm else [])]
        for label in labels:
            args += ["--label", label]
        agent = subprocess.Popen(args, env=self.env, stdout=subprocess.DEVNULL,
                                 stderr=open(self.tmp / f"{name}.log", "ab"))  # noqa: SIM115
        self.agents.append(agent)
        return agent

    def run_state(self, run_id: str) -> str:
        return self.client.get_flow_run(run_id).state

    def wait_state(self, run_id: str, states: set[str], timeout: float = 60) -> Any:
        return wait_for(lambda: self.client.get_flow_run(run_id).state in states and
                        self.client.get_flow_run(run_id), timeout, f"run {run_id} in {states}")


@pytest.fixture
def backend(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Backend]:
    """A backend with a short lease (3 s), so crash tests end quickly; a test marked
    ``lease_timeout(N)`` gets N seconds instead."""
    marks = tmp_path / "marks"
    marks.mkdir()
    script = tmp_path / "flows.py"
    script.write_text(FLOWS_SCRIPT)
    marker = request.node.get_closest_marker("lease_timeout")
    lease = marker.args[0] if marker else 3
    with running_server(tmp_path / "backend.db", lease_timeout=lease, sweep_interval=0.5,
                        agent_timeout=10) as url:
        env = {**os.environ, "JUPYTER_FLOWS_BACKEND_URL": url, "E2E_MARKS": str(marks),
               "HOME": str(tmp_path), "JUPYTER_FLOWS_HEARTBEAT_INTERVAL": "0.5"}
        env.pop("JUPYTER_FLOWS_API_KEY", None)
        b = Backend(tmp_path, url, env)
        b.cli("register", str(script))
        try:
            yield b
        finally:
            stop_processes(*b.agents)
            kill_strays(tmp_path / "marks")
            b.client.close()


def kill_strays(marks: Path) -> None:
    """Flow-run processes a test left sleeping (their pids are in the marks)."""
    for start in marks.glob("*/start-*"):
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(start.read_text()), signal.SIGKILL)


def created_run(b: Backend, stdout: str) -> str:
    for line in stdout.splitlines():
        if line.startswith("flow run "):
            return line.split()[2]
    raise AssertionError(f"no run id in: {stdout}")


# ------------------------------------------------------------------------ the happy path
# no crash is wanted here: a lease that outlasts a busy machine's pauses
@pytest.mark.lease_timeout(20)
@pytest.mark.parametrize("start", ["fresh", "warm"])
def test_registered_flow_runs_through_the_local_agent(backend: Backend, start: str) -> None:
    backend.warm = start == "warm"
    backend.start_agent()
    out = backend.cli("run", "squares", "--param", "n=4", "--watch")
    assert "Success" in out.stdout
    run_id = created_run(backend, out.stdout)
    run = backend.client.get_flow_run(run_id)
    assert run.state == "Success" and run.run_count == 1
    task_runs = {(t.task_slug, t.map_index): t.state for t in backend.client.get_task_runs(run_id)}
    assert task_runs[("square-1", None)] == "Mapped"
    assert [task_runs[("square-1", i)] for i in range(4)] == ["Success"] * 4
    assert task_runs[("total-1", None)] == "Success"
    messages = [r.message for r in backend.client.read_logs(run_id, limit=500).items]
    assert any("squaring 3" in m for m in messages), messages  # log_stdout of a map child
    assert "counting to 4" in messages, messages  # a plain print (issue 10)
    assert any("total is 14" in m for m in messages), messages
    history = [s.state for s in backend.client.get_flow_run_states(run_id)]
    assert history[:3] == ["Scheduled", "Submitted", "Running"] and history[-1] == "Success"


# no crash is wanted here: a lease that outlasts a busy machine's pauses
@pytest.mark.lease_timeout(20)
def test_logs_follow_a_run_from_before_it_starts_to_its_end(backend: Backend) -> None:
    """``get logs --follow`` waits on the run's event stream: started before any agent, it
    prints each log line once, as the run writes it, and exits when the run ends."""
    run_id = created_run(backend, backend.cli("run", "squares", "--param", "n=4").stdout)
    follower = subprocess.Popen([sys.executable, "-m", "jupyter_flows", "get", "logs", run_id,
                                 "--follow"], env=backend.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.0)
        assert follower.poll() is None  # nothing to print yet: it waits, it does not exit
        backend.start_agent()
        out, err = follower.communicate(timeout=120)
    finally:
        stop_processes(follower)
    assert follower.returncode == 0, err
    stored = [r.message for r in backend.client.read_logs(run_id, limit=500).items]
    printed = [line for line in out.splitlines() if line.strip()]
    assert len(printed) == len(stored) and all(m.splitlines()[0] in line
                                               for m, line in zip(stored, printed))
    assert any("total is 14" in line for line in printed)


# no crash is wanted here: a lease that outlasts a busy machine's pauses
@pytest.mark.lease_timeout(20)
def test_a_failing_flow_fails_the_watch_with_its_error(backend: Backend) -> None:
    backend.start_agent()
    out = backend.cli("run", "broken", "--watch", check=False)
    assert out.returncode == 1
    run_id = created_run(backend, out.stdout)
    assert backend.run_state(run_id) == "Failed"
    logs = "\n".join(r.message for r in backend.client.read_logs(run_id).items)
    assert "ValueError: the source table is empty" in logs
    assert "def explode" in logs or "explode" in logs


# ------------------------------------------------------------------------------ faults
def _started_pid(b: Backend, tag: str, attempt: int = 1) -> int:
    mark = b.tmp / "marks" / tag / f"start-{attempt}"
    wait_for(mark.exists, 60, f"attempt {attempt} of {tag} to start")
    return int(mark.read_text())


@pytest.mark.parametrize("start", ["fresh", "warm"])
def test_killed_flow_run_process_crashes_then_is_retried(backend: Backend, start: str) -> None:
    backend.warm = start == "warm"
    backend.start_agent()
    run = backend.client.create_flow_run(flow_name="sleepy", parameters={"tag": "k9"},
                                         max_retries=1)
    os.kill(_started_pid(backend, "k9"), signal.SIGKILL)
    final = backend.wait_state(run.id, {"Success", "Failed", "Crashed"}, timeout=60)
    assert final.state == "Success" and final.run_count == 2
    history = backend.client.get_flow_run_states(run.id)
    crashed = [s for s in history if s.state == "Crashed"]
    assert len(crashed) == 1 and "-9" in (crashed[0].message or ""), history
    assert [s.state for s in history].count("Running") == 2


def test_killed_flow_run_without_retries_stays_crashed(backend: Backend) -> None:
    backend.start_agent()
    run = backend.client.create_flow_run(flow_name="sleepy", parameters={"tag": "k9-once"})
    os.kill(_started_pid(backend, "k9-once"), signal.SIGKILL)
    final = backend.wait_state(run.id, {"Success", "Failed", "Crashed"}, timeout=30)
    assert final.state == "Crashed" and final.exit_code == -9
    time.sleep(1.5)  # no retry may follow
    assert backend.run_state(run.id) == "Crashed"


@pytest.mark.parametrize("start", ["fresh", "warm"])
def test_killed_agent_does_not_lose_its_run(backend: Backend, start: str) -> None:
    backend.warm = start == "warm"
    agent = backend.start_agent()
    run = backend.client.create_flow_run(flow_name="sleepy",
                                         parameters={"tag": "agent-dies", "seconds": 4})
    _started_pid(backend, "agent-dies")
    agent.kill()
    final = backend.wait_state(run.id, {"Success", "Failed", "Crashed"}, timeout=60)
    assert final.state == "Success" and final.run_count == 1


def test_agent_and_run_killed_together_are_crashed_by_the_lease_sweeper(
        backend: Backend) -> None:
    agent = backend.start_agent()
    run = backend.client.create_flow_run(flow_name="sleepy", parameters={"tag": "both-die"})
    pid = _started_pid(backend, "both-die")
    agent.kill()
    os.kill(pid, signal.SIGKILL)
    killed_at = time.monotonic()
    final = backend.wait_state(run.id, {"Success", "Failed", "Crashed"}, timeout=30)
    assert final.state == "Crashed"
    assert "heartbeat" in (final.state_message or "").lower()
    # bounded: lease_timeout (3 s) + sweep_interval (0.5 s), with slack for a busy machine
    assert time.monotonic() - killed_at < 15


def test_backend_restart_mid_run_loses_nothing(tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    script = tmp_path / "flows.py"
    script.write_text(FLOWS_SCRIPT)
    port = free_port()
    db = tmp_path / "backend.db"
    settings: dict[str, Any] = {"lease_timeout": 10, "sweep_interval": 0.5}
    with running_server(db, port=port, **settings) as url:
        env = {**os.environ, "JUPYTER_FLOWS_BACKEND_URL": url, "E2E_MARKS": str(marks),
               "HOME": str(tmp_path), "JUPYTER_FLOWS_HEARTBEAT_INTERVAL": "0.5"}
        b = Backend(tmp_path, url, env)
        b.cli("register", str(script))
        b.start_agent()
        run = b.client.create_flow_run(flow_name="sleepy",
                                       parameters={"tag": "restart", "seconds": 6})
        _started_pid(b, "restart")
    # the backend is down now, while the flow sleeps; bring it back on the same file
    time.sleep(1.0)
    try:
        with running_server(db, port=port, **settings):
            final = b.wait_state(run.id, {"Success", "Failed", "Crashed"}, timeout=60)
            assert final.state == "Success" and final.run_count == 1
            assert {t.state for t in b.client.get_task_runs(run.id)} == {"Success"}
    finally:
        for agent in b.agents:
            agent.terminate()
            agent.wait(timeout=15)
        kill_strays(marks)


# -------------------------------------------------------------------------- concurrency
@pytest.mark.lease_timeout(30)  # 200 process starts on 2 cores: leases as in production
@pytest.mark.timeout(900)  # a new process per run: 200 of them on a busy CI machine
def test_four_agents_run_two_hundred_runs_exactly_once(backend: Backend) -> None:
    for i in range(4):
        backend.start_agent(name=f"agent-{i}", concurrency=2)
    runs = [backend.client.create_flow_run(flow_name="recorder", parameters={"tag": "many"}).id
            for _ in range(200)]

    def finished() -> bool:
        page = backend.client.list_flow_runs(state=["Success", "Failed", "Crashed"], limit=1)
        return page.total >= 200

    wait_for(finished, 600, "200 runs to finish")
    executed = (backend.tmp / "marks" / "many.runs").read_text().split()
    assert sorted(executed) == sorted(runs)  # each run's task ran exactly once
    states = {backend.run_state(r) for r in runs}
    assert states == {"Success"}
    agents_used = {backend.client.get_flow_run(r).agent_name for r in runs}
    assert len(agents_used) >= 2


# --------------------------------------------------------------------------- bad input
# no crash is wanted here: a lease that outlasts a busy machine's pauses
@pytest.mark.lease_timeout(20)
def test_a_run_config_of_another_platform_is_not_claimed_and_says_why(backend: Backend
                                                                       ) -> None:
    """Issue 10: the local agent took a DockerRun and failed it; now it never claims it, the
    run waits, and it says which agent would run it."""
    backend.start_agent()
    wait_for(lambda: backend.client.list_agents(), 30, "the agent to register")
    record = backend.client.list_flows(name="squares").items[0]
    docker = backend.client.create_flow_run(record.id, run_config={"type": "docker",
                                                                   "image": "python:3.11"})
    plain = backend.client.create_flow_run(record.id)  # created after, so claimed after
    assert backend.wait_state(plain.id, {"Success"}, timeout=60).state == "Success"
    waiting = backend.client.get_flow_run(docker.id)
    assert (waiting.state, waiting.run_count) == ("Scheduled", 0)
    assert waiting.agent_match is not None and not waiting.agent_match.matched
    assert "runs local, universal run configs, not docker" in waiting.agent_match.explanation


def test_a_run_whose_stored_flow_is_gone_fails_naming_the_file(backend: Backend) -> None:
    record = backend.client.list_flows(name="squares").items[0]
    location = Path(record.storage["location"])
    location.unlink()
    backend.start_agent()
    run = backend.client.create_flow_run(record.id)
    final = backend.wait_state(run.id, {"Failed", "Success", "Crashed"}, timeout=30)
    assert final.state == "Failed"
    assert str(location) in (final.state_message or "")


def test_no_compatible_agent_is_explained(backend: Backend) -> None:
    backend.start_agent("cpu", name="cpu-agent")
    wait_for(lambda: backend.client.list_agents(), 30, "the agent to register")
    out = backend.cli("run", "squares", "--label", "gpu")
    assert "gpu" in out.stdout and "cpu-agent" in out.stdout, out.stdout
    run_id = created_run(backend, out.stdout)
    time.sleep(1.0)
    assert backend.run_state(run_id) == "Scheduled"


def test_wrong_api_key_is_refused(tmp_path: Path) -> None:
    with running_server(tmp_path / "backend.db", api_key="right-key") as url:
        with Client(url, api_key="wrong-key") as client, pytest.raises(BackendError) as info:
            client.list_flows()
        assert info.value.status == 401
        env = {**os.environ, "JUPYTER_FLOWS_BACKEND_URL": url,
               "JUPYTER_FLOWS_API_KEY": "wrong-key"}
        out = subprocess.run([sys.executable, "-m", "jupyter_flows", "get", "flows"], env=env,
                             capture_output=True, text=True, timeout=60, check=False)
        assert out.returncode == 1 and "401" in out.stderr


def test_register_reports_a_script_that_does_not_build_flows(tmp_path: Path) -> None:
    script = tmp_path / "empty.py"
    script.write_text(textwrap.dedent("x = 1\n"))
    out = subprocess.run([sys.executable, "-m", "jupyter_flows", "register", str(script)],
                         capture_output=True, text=True, timeout=60, check=False)
    assert out.returncode == 1 and "builds no flow" in out.stderr


# ------------------------------------------------------------------------- the main job
def test_up_runs_the_demo_through_backend_and_agent(tmp_path: Path) -> None:
    env = {**os.environ, "HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-m", "jupyter_flows", "up", "--port",
                          str(free_port()), "--exit-after-demo"], env=env, capture_output=True,
                         text=True, timeout=180, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Success: all reference tasks succeeded" in out.stdout
    assert "transform-1      Mapped" in out.stdout


def test_up_with_lab_points_jupyterlab_at_its_backend(tmp_path: Path) -> None:
    import httpx

    backend_port, lab_port = free_port(), free_port()
    env = {**os.environ, "HOME": str(tmp_path), "JUPYTER_TOKEN": "e2e-token"}
    env.pop("JUPYTER_FLOWS_BACKEND_URL", None)
    up = subprocess.Popen([sys.executable, "-m", "jupyter_flows", "up", "--port",
                           str(backend_port), "--lab", "--lab-port", str(lab_port),
                           "--notebook-dir", str(tmp_path)], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        def config() -> Any:
            try:
                answer = httpx.get(f"http://127.0.0.1:{lab_port}/jupyter-flows/api/config",
                                   headers={"Authorization": "token e2e-token"}, timeout=2)
            except httpx.HTTPError:
                return None
            return answer.json() if answer.status_code == 200 else None

        found = wait_for(config, 180, "JupyterLab with the jupyter-flows server extension")
        assert found["backend_url"] == f"http://127.0.0.1:{backend_port}"
    finally:
        up.terminate()
        up.wait(timeout=60)
    # everything `up` started is gone with it
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{backend_port}/api/health", timeout=2)
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{lab_port}/api/status", timeout=2)
