"""Flows of flows end to end: a uvicorn backend, a real local agent, and parent flow runs
whose tasks create, wait for and read the results of child flow runs (each its own
flow-run process), through ``jupyter_flows.tasks.prefect``."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_flows.client.client import Client
from jupyter_flows.local_backend.processes import stop_processes
from jupyter_flows.server.testing import running_server

pytestmark = pytest.mark.slow

FLOWS_SCRIPT = '''
import os
from pathlib import Path
from jupyter_flows import Flow, Parameter, task, get_run_context
from jupyter_flows.engine.results import Result
from jupyter_flows.tasks.prefect import create_flow_run, get_task_run_result, wait_for_flow_run

MARKS = Path(os.environ["FOF_MARKS"])


@task(checkpoint=True)
def work(tag, fail):
    if fail:
        raise ValueError(f"child {tag} broke")
    return {"tag": tag, "squares": [i * i for i in range(4)]}


with Flow("child", result=Result(os.environ["FOF_RESULTS"])) as child:
    work(Parameter("tag"), Parameter("fail", default=False))


@task
def keep(value):
    (MARKS / "result.txt").write_text(repr(value))


with Flow("parent") as parent:
    ok = create_flow_run(flow_name="child", parameters={"tag": "a"}, run_name="child a")
    bad = create_flow_run(flow_name="child", parameters={"tag": "b", "fail": True})
    waited_ok = wait_for_flow_run(ok, raise_final_state=True)
    waited_bad = wait_for_flow_run(bad, raise_final_state=True, stream_logs=True)
    keep(get_task_run_result(ok, "work-1", upstream_tasks=[waited_ok]))


@task(max_retries=2, retry_delay=0, checkpoint=False)  # backend runs checkpoint by default
def start_child_then_fail_once():
    """Creates the child, then fails its first attempt: the retry must find that child."""
    run_id = create_flow_run.run(flow_name="child", parameters={"tag": "retried"})
    attempt = get_run_context().run_count
    with open(MARKS / "attempts.txt", "a") as f:
        f.write(f"{attempt} {run_id}\\n")
    if attempt == 1:
        raise ConnectionError("the network dropped after the child was created")
    return run_id


with Flow("retrying-parent") as retrying_parent:
    wait_for_flow_run(start_child_then_fail_once(), raise_final_state=True)


@task
def linger():
    import time
    (MARKS / "lingering.txt").write_text("started")
    for _ in range(1200):  # a minute, in Python code: a cancel stops it at once
        time.sleep(0.05)
    (MARKS / "lingered.txt").write_text("finished")


with Flow("slow-child") as slow_child:
    linger()


with Flow("waiting-parent") as waiting_parent:
    wait_for_flow_run(create_flow_run(flow_name="slow-child"), raise_final_state=True)
'''


def wait_for(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


class Backend:
    def __init__(self, tmp: Path, url: str, env: dict[str, str]) -> None:
        self.tmp, self.url, self.env = tmp, url, env
        self.client = Client(url)
        self.agents: list[subprocess.Popen[bytes]] = []

    def cli(self, *args: str) -> str:
        out = subprocess.run([sys.executable, "-m", "jupyter_flows", *args], env=self.env,
                             capture_output=True, text=True, timeout=180, check=False)
        assert out.returncode == 0, f"{args} exited {out.returncode}:\n{out.stdout}\n{out.stderr}"
        return out.stdout

    def finished(self, run_id: str, timeout: float = 180) -> Any:
        done = {"Success", "Failed", "Crashed", "Cancelled", "TimedOut"}
        return wait_for(lambda: (run := self.client.get_flow_run(run_id)).state in done and run,
                        timeout, f"run {run_id} to finish")


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[Backend]:
    marks, results = tmp_path / "marks", tmp_path / "results"
    marks.mkdir()
    results.mkdir()
    script = tmp_path / "flows.py"
    script.write_text(FLOWS_SCRIPT)
    # a lease that outlasts a busy machine's pauses: no crash is wanted here
    with running_server(tmp_path / "backend.db", startup_timeout=120, lease_timeout=30,
                        sweep_interval=1,
                        agent_timeout=30) as url:
        env = {**os.environ, "JUPYTER_FLOWS_BACKEND_URL": url, "FOF_MARKS": str(marks),
               "FOF_RESULTS": str(results), "HOME": str(tmp_path),
               "JUPYTER_FLOWS_HEARTBEAT_INTERVAL": "1",
               "COLUMNS": "300"}  # rich tables keep whole run ids on one line
        env.pop("JUPYTER_FLOWS_API_KEY", None)
        b = Backend(tmp_path, url, env)
        b.cli("register", str(script))
        # a parent and its two children run at once
        b.agents.append(subprocess.Popen(
            [sys.executable, "-m", "jupyter_flows", "agent", "local", "start", "--name",
             "agent", "--poll-wait", "2", "--log-dir", str(tmp_path / "run-logs"),
             "--concurrency", "4"],
            env=env, stdout=subprocess.DEVNULL,
            stderr=open(tmp_path / "agent.log", "ab")))  # noqa: SIM115
        try:
            yield b
        finally:
            stop_processes(*b.agents)
            b.client.close()


def test_parent_waits_for_two_children_and_fails_with_the_failed_ones_message(
        backend: Backend) -> None:
    parent = backend.client.create_flow_run(flow_name="parent")
    final = backend.finished(parent.id)
    tasks = {t.task_slug: t for t in backend.client.get_task_runs(parent.id)}
    assert final.state == "Failed", (final, tasks)

    # the children are recorded as the parent's, and listed by ?parent=
    children = backend.client.list_flow_runs(parent=parent.id).items
    assert len(children) == 2
    assert all(c.parent_flow_run_id == parent.id and c.flow_name == "child" for c in children)
    by_tag = {c.parameters["tag"]: backend.client.get_flow_run(c.id) for c in children}
    assert by_tag["a"].state == "Success" and by_tag["b"].state == "Failed"
    assert by_tag["a"].parent_flow_run_id == parent.id
    assert (by_tag["a"].name, by_tag["b"].name) == ("child a", None)  # run_name names it
    assert backend.client.list_flow_runs(parent=by_tag["a"].id).items == []

    # raise_final_state: the wait on the failed child fails with that child's message
    assert tasks["wait_for_flow_run-1"].state == "Success"
    failed_wait = tasks["wait_for_flow_run-2"]
    assert failed_wait.state == "Failed"
    assert f"flow run {by_tag['b'].id} (child) finished Failed" in (failed_wait.message or "")
    assert "ValueError: child b broke" in (failed_wait.message or "")

    # the successful child's task result was read back from where it was checkpointed
    assert tasks["get_task_run_result-1"].state == "Success"
    result = (backend.tmp / "marks" / "result.txt").read_text()
    assert result == repr({"tag": "a", "squares": [0, 1, 4, 9]})
    [work] = [t for t in backend.client.get_task_runs(by_tag["a"].id) if t.task_slug == "work-1"]
    assert work.location and work.location.startswith(str(backend.tmp / "results"))

    # the CLI lists the children; %flow status shows both directions
    listed = backend.cli("get", "runs", "--parent", parent.id)
    rows = [line for line in listed.splitlines() if parent.id in line]  # the parent column
    assert len(rows) == 2 and {by_tag["a"].id, by_tag["b"].id} == {
        next(w for w in row.split() if len(w) == 32 and w != parent.id) for row in rows}
    from jupyter_flows.notebook.summaries import status_lines

    lines = status_lines(final, [], [], backend.client.list_flow_runs(parent=parent.id).items)
    assert f"  child run {by_tag['b'].id} of flow 'child': Failed" in lines
    assert f"  started by run {parent.id} (%flow status {parent.id[:8]})" in status_lines(
        by_tag["a"], [], [])

    # the failed child's logs were streamed into the parent's
    parent_logs = "\n".join(r.message for r in backend.client.read_logs(parent.id).items)
    assert f"flow run {by_tag['b'].id} (child) [work-1]: " in parent_logs


def test_retrying_the_creating_task_does_not_create_a_second_child(backend: Backend) -> None:
    parent = backend.client.create_flow_run(flow_name="retrying-parent")
    final = backend.finished(parent.id)
    attempts = (backend.tmp / "marks" / "attempts.txt").read_text().split("\n")[:-1]
    assert [a.split()[0] for a in attempts] == ["1", "2"], attempts
    assert final.state == "Success", backend.client.get_task_runs(parent.id)
    first, second = (a.split()[1] for a in attempts)
    assert first == second  # the retry got the child the first attempt made
    children = backend.client.list_flow_runs(parent=parent.id).items
    assert [c.id for c in children] == [first]
    assert backend.client.get_flow_run(first).state == "Success"
    assert len(backend.client.list_flow_runs(flow_name="child").items) == 1


def test_get_task_run_result_explains_a_task_without_a_result(
        backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    from jupyter_flows.errors import ResultError
    from jupyter_flows.tasks.prefect import get_task_run_result

    parent = backend.client.create_flow_run(flow_name="retrying-parent")
    assert backend.finished(parent.id).state == "Success"
    monkeypatch.setenv("JUPYTER_FLOWS_BACKEND_URL", backend.url)
    with pytest.raises(ResultError, match="has no persisted result: give the task"):
        get_task_run_result.run(parent.id, "start_child_then_fail_once-1")
    with pytest.raises(ResultError, match="has no task run 'nope'"):
        get_task_run_result.run(parent.id, "nope")


def test_cancelling_a_parent_stops_the_child_it_waits_for(backend: Backend) -> None:
    parent = backend.client.create_flow_run(flow_name="waiting-parent")
    marks = backend.tmp / "marks"
    wait_for(lambda: (marks / "lingering.txt").exists(), 120, "the child's task to start")
    [child] = backend.client.list_flow_runs(parent=parent.id).items
    backend.client.cancel_flow_run(parent.id)

    assert backend.finished(parent.id, timeout=60).state == "Cancelled"
    ended = backend.finished(child.id, timeout=60)
    assert ended.state == "Cancelled"
    assert ended.state_message and "cancelled" in ended.state_message
    history = [s.message for s in backend.client.get_flow_run_states(child.id)]
    assert f"cancelled with its parent flow run {parent.id}" in history
    [linger] = backend.client.get_task_runs(child.id)
    assert linger.state == "Cancelled"
    assert not (marks / "lingered.txt").exists()
    waits = [t for t in backend.client.get_task_runs(parent.id)
             if t.task_slug.startswith("wait_for_flow_run")]
    assert waits and all(t.state != "Success" for t in waits)
