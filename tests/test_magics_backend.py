"""The notebook's flows beyond the kernel: on a Dask LocalCluster of worker processes, and
submitted to a real backend (uvicorn on a SQLite file) that a local agent process runs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from test_magics_support import (
    REPORT,
    flow,
    fresh_shell_fixture,  # noqa: F401  (the fresh_shell fixture)
    runs,
    setup_notebook,
    shell_fixture,  # noqa: F401  (the shell fixture)
    task_cell,
)

from jupyter_flows.client.client import Client
from jupyter_flows.local_backend.processes import stop_processes
from jupyter_flows.server.testing import free_port, running_server

ALL = ["load", "clean", "features", "report"]
FINISHED = {"Success", "Failed", "Crashed", "Cancelled", "TriggerFailed", "TimedOut"}


@pytest.fixture(autouse=True)
def no_live_view(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "jupyter_flows.widgets.live", None)


@pytest.mark.slow
def test_the_notebook_runs_on_a_dask_cluster_of_processes(shell: InteractiveShell,
                                                          tmp_path: Path,
                                                          local_cluster: Any) -> None:
    log = tmp_path / "log"
    setup_notebook(shell, log)
    shell.run_cell("import os\nKERNEL_PID = os.getpid()")
    task_cell(shell, "where", "import os\nworker_pid = os.getpid()\n")
    flow(shell, f"run --executor dask {local_cluster.scheduler_address}")
    assert shell.user_ns["report"] == REPORT
    assert isinstance(shell.user_ns["math"], types.ModuleType)
    assert shell.user_ns["worker_pid"] != shell.user_ns["KERNEL_PID"]
    assert sorted(runs(log)) == sorted(ALL)
    flow(shell, f"run --executor dask {local_cluster.scheduler_address}")
    assert sorted(runs(log)) == sorted(ALL)  # cached, whatever worker ran them


# ------------------------------------------------------------------------------ backend
@pytest.fixture
def backend(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A backend and one local agent; the kernel and the agent share HOME, where Local
    storage keeps the submitted flows."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("JUPYTER_FLOWS_API_KEY", raising=False)
    with running_server(tmp_path / "db.sqlite") as url:
        monkeypatch.setenv("JUPYTER_FLOWS_BACKEND_URL", url)
        env = {**os.environ, "JUPYTER_FLOWS_HEARTBEAT_INTERVAL": "0.5"}
        with open(tmp_path / "agent.log", "wb") as agent_log:
            agent = subprocess.Popen(
                [sys.executable, "-m", "jupyter_flows", "agent", "local", "start",
                 "--poll-wait", "2", "--log-dir", str(tmp_path / "run-logs")],
                env=env, stdout=agent_log, stderr=subprocess.STDOUT)
        try:
            wait_for_agent(url)  # runs submitted now are taken, not "waiting"
            yield url
        finally:
            stop_processes(agent)


def wait_for_agent(url: str, timeout: float = 30) -> None:
    with Client(url) as client:
        deadline = time.monotonic() + timeout
        while not any(a.online for a in client.list_agents()):
            assert time.monotonic() < deadline, "the agent never registered"
            time.sleep(0.1)


def wait_finished(url: str, run_id: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    with Client(url) as client:
        while time.monotonic() < deadline:
            state = client.get_flow_run(run_id).state
            if state in FINISHED:
                return state
            time.sleep(0.2)
    raise AssertionError(f"run {run_id} did not finish within {timeout} s")


TASKS = '''
from jupyter_flows import Parameter, task

@task
def numbers(n):
    return list(range(n))

@task
def total(xs):
    with open({out!r}, "w") as f:
        f.write(str(sum(xs)))
'''


@pytest.mark.slow
def test_submit_runs_the_cells_on_an_agent(shell: InteractiveShell, tmp_path: Path,
                                           backend: str,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "log"
    setup_notebook(shell, log)  # `mark`, a notebook function, travels by value
    # IPython's display, which the agent's flow-run process does not have (issue 10)
    task_cell(shell, "chart", "display(report)\ndisplay(' '.join(['word'] * 40))\n")
    capsys.readouterr()
    flow(shell, "submit --param SCALE=3")
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("submitted flow 'notebook' (version 1): run ")
    run_id = out[0].split("run ")[1].split(",")[0]
    assert out[1:] == [f"  {backend}/api/flow_runs/{run_id}",
                       f"  open it in JupyterLab: jupyter-flows://runs/{run_id}",
                       "  `%flow status` shows its progress",
                       "  cells without --flow go to flow 'notebook': this kernel does not know"
                       " its notebook's file name; choose another name with %%task --flow NAME"]
    assert wait_finished(backend, run_id) == "Success", (tmp_path / "run-logs").glob("*")
    assert runs(log) == ALL  # written by the agent's flow-run process
    assert "report" not in shell.user_ns  # a backend run does not come back to the kernel

    flow(shell, "status")
    status = capsys.readouterr().out.splitlines()
    assert status[0].startswith(f"run {run_id} of flow 'notebook' (version 1): Success")
    # the tasks in the DAG's order, not alphabetically
    assert [line.split() for line in status[1:6]] == [[c, "Success"] for c in [*ALL, "chart"]]
    logs = status[status.index("last logs:") + 1:]
    # SCALE=3 for this run
    assert any(line.endswith("INFO    display: '4 rows (2 dropped), total 51, max root 3.0'")
               for line in logs), logs
    # a long record whole, wrapped, not cut
    assert "display: '" + " ".join(["word"] * 40) + "'" in " ".join(x.strip() for x in logs)
    assert max(map(len, logs)) <= 100

    # the same notebook again: the same version; a changed cell: a new one
    flow(shell, "submit --param SCALE=3")
    assert "(version 1)" in capsys.readouterr().out
    task_cell(shell, "report", "report = 'short'\n")
    flow(shell, "submit --label nowhere")
    out = capsys.readouterr().out
    assert "(version 2)" in out
    other = out.split("run ")[1].split(",")[0]
    flow(shell, f"status {other}")
    assert f"run {other} of flow 'notebook' (version 2): Scheduled" in capsys.readouterr().out

    # a %%flow flow: --param sets its Parameter on the backend run, --executor its executor
    assert shell.run_cell(TASKS.format(out=str(tmp_path / "total"))).success
    shell.run_cell_magic("flow", "sums", "total(numbers(Parameter('n', default=3)))\n")
    capsys.readouterr()
    flow(shell, "submit sums --param n=5 --executor local-dask threads")
    run_id = capsys.readouterr().out.split("run ")[1].split(",")[0]
    assert wait_finished(backend, run_id) == "Success"
    assert (tmp_path / "total").read_text() == "10"
    with Client(backend) as client:
        run = client.get_flow_run(run_id)
        assert run.parameters == {"n": 5}
        assert client.get_flow(run.flow_id).executor["type"] == "local-dask"


def test_backend_commands_name_an_unreachable_backend(shell: InteractiveShell,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    monkeypatch.setenv("JUPYTER_FLOWS_BACKEND_URL", url)
    with pytest.raises(UsageError, match=f"cannot reach the jupyter-flows backend at {url}"):
        flow(shell, "status some-run")


@pytest.mark.slow
def test_status_watch_follows_a_run_to_its_end(shell: InteractiveShell, tmp_path: Path,
                                               backend: str, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delitem(sys.modules, "jupyter_flows.widgets.live")  # the real live view
    log = tmp_path / "log"
    setup_notebook(shell, log)
    flow(shell, "submit")
    run_id = capsys.readouterr().out.split("run ")[1].split(",")[0]
    flow(shell, "status --watch --timeout 60")  # returns when the run has finished
    status = capsys.readouterr().out
    assert f"run {run_id} of flow 'notebook' (version 1): Success" in status
    assert runs(log) == ALL


@pytest.mark.slow
def test_a_run_no_agent_can_take_is_explained_by_submit_and_status(
        shell: InteractiveShell, tmp_path: Path, backend: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 10: `%flow submit` printed "Scheduled" and `%flow status` "Scheduled - created"
    for a run that no online agent could take, without saying why."""
    setup_notebook(shell, tmp_path / "log")
    flow(shell, "submit --label gpu")
    out = capsys.readouterr().out
    assert "Scheduled" in out
    assert "waiting: no online agent can run this universal run with labels ['gpu']" in out
    assert "lacks 'gpu'" in out
    flow(shell, "status")
    status = capsys.readouterr().out
    assert "waiting: no online agent can run this universal run" in status


def test_the_config_widgets_submit_sends_the_flow_as_the_notebook_has_it(
        shell: InteractiveShell, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 10: after `%flow remove`, Submit registered the removed tasks too."""
    import jupyter_flows.widgets.config as config

    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("JUPYTER_FLOWS_API_KEY", raising=False)
    shown: list[Any] = []
    real = config.flow_config_widget
    monkeypatch.setattr(config, "flow_config_widget",
                        lambda *a, **k: shown.append(real(*a, **k)) or shown[-1])
    setup_notebook(shell, tmp_path / "log")
    task_cell(shell, "flag_big", "big = [r for r in rows if r > 3]\n")
    task_cell(shell, "flag_first", "first = rows[0]\n")
    with running_server(tmp_path / "db.sqlite") as url:
        monkeypatch.setenv("JUPYTER_FLOWS_BACKEND_URL", url)
        flow(shell, "config")
        (widget,) = shown
        flow(shell, "remove flag_big")
        flow(shell, "remove flag_first")
        widget.submit_button.click()
        run = widget.last_flow_run
        assert run is not None, widget.status_text
        with Client(url) as client:
            spec = client.get_flow(run.flow_id).spec
        assert sorted(t.slug for t in spec.tasks) == sorted(ALL)
        assert "(4 tasks, Scheduled)" in widget.status_text
        flow(shell, "submit")  # the same flow: the same version
        with Client(url) as client:
            assert len(client.list_flows(name="notebook").items) == 1


@pytest.mark.slow
def test_cancel_stops_the_run_submitted_last(shell: InteractiveShell, tmp_path: Path,
                                             backend: str,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(UsageError, match="nothing was submitted from this notebook yet"):
        flow(shell, "cancel")
    task_cell(shell, "nap", "import time\nfor _ in range(1200):\n    time.sleep(0.05)\n")
    flow(shell, "submit")
    run_id = capsys.readouterr().out.split("run ")[1].split(",")[0]
    with Client(backend) as client:
        deadline = time.monotonic() + 60
        while client.get_flow_run(run_id).state != "Running":
            assert time.monotonic() < deadline, "the run never started"
            time.sleep(0.1)
        flow(shell, "cancel")
        out = capsys.readouterr().out
        assert out.startswith(f"run {run_id} of flow 'notebook': Cancelling; its tasks are "
                              f"being stopped")
        assert wait_finished(backend, run_id, timeout=30) == "Cancelled"
        [nap] = client.get_task_runs(run_id)
        assert nap.state == "Cancelled"


@pytest.mark.slow
def test_restart_reruns_the_run_submitted_last_once_its_cause_is_fixed(
        shell: InteractiveShell, tmp_path: Path, backend: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(UsageError, match="nothing was submitted from this notebook yet"):
        flow(shell, "restart")
    marker, log = tmp_path / "fixed", tmp_path / "ran.log"
    # no cell keeps its file handle: an output that does not pickle has no checkpoint (the
    # run logs it), and such a cell runs again on a restart
    task_cell(shell, "load", f"print('load', file=open({str(log)!r}, 'a'))\nrows = [1, 2, 3]\n")
    task_cell(shell, "check", f"import os\nprint('check', file=open({str(log)!r}, 'a'))\n"
                              f"if not os.path.exists({str(marker)!r}):\n"
                              f"    raise RuntimeError('not fixed yet')\n"
                              "total = sum(rows)\n")
    flow(shell, "submit")
    run_id = capsys.readouterr().out.split("run ")[1].split(",")[0]
    assert wait_finished(backend, run_id) == "Failed"
    marker.touch()
    flow(shell, "restart")
    out = capsys.readouterr().out
    assert out.startswith(f"run {run_id} of flow 'notebook': Scheduled (restarted (attempt 2)")
    assert wait_finished(backend, run_id) == "Success"
    assert log.read_text().split() == ["load", "check", "check"]
    with pytest.raises(UsageError, match="is Success: it succeeded"):
        flow(shell, f"restart {run_id}")


@pytest.mark.slow
def test_debug_loads_a_failed_agent_tasks_inputs_and_reopens_its_cell(
        shell: InteractiveShell, tmp_path: Path, backend: str,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Issue 18 item 2: the failing cell reproduces in the kernel with the agent's data."""
    seen = tmp_path / "agent-rows"
    # the agent's value differs from any the kernel has: its process id
    task_cell(shell, "load", f"import os\nrows = [os.getpid(), 2]\n"
                             f"print(rows, file=open({str(seen)!r}, 'w'))\n")
    task_cell(shell, "check", "if rows[1] == 2:\n    raise ValueError(f'bad rows {rows}')\n"
                              "total = sum(rows)\n")
    flow(shell, "submit")
    run_id = capsys.readouterr().out.split("run ")[1].split(",")[0]
    assert wait_finished(backend, run_id) == "Failed"
    shell.user_ns.pop("rows", None)

    flow(shell, f"debug {run_id[:8]} check")
    out = capsys.readouterr().out
    assert f"run {run_id} of flow 'notebook', task check: Failed" in out
    assert "loaded what the cell reads: rows" in out
    agent_rows = shell.user_ns["rows"]
    assert str(agent_rows) == seen.read_text().strip() and agent_rows[0] != os.getpid()
    # the next cell (a kernel sends it to JupyterLab as a set_next_input payload)
    opened = shell.rl_next_input
    assert opened.startswith("%%task check\nif rows[1] == 2:")
    # the cell's code, run with the loaded inputs, fails as it did on the agent
    result = shell.run_cell(opened.split("\n", 1)[1])
    assert isinstance(result.error_in_exec, ValueError)
    assert f"bad rows {agent_rows}" in str(result.error_in_exec)

    with pytest.raises(UsageError, match=r"has no task 'nope'; its tasks: check, load"):
        flow(shell, f"debug {run_id} nope")
    with pytest.raises(UsageError, match=r"the inputs are 0.0 MiB, more than 0 MiB: load them "
                                         r"anyway with --max-size 1"):
        flow(shell, f"debug {run_id} check --max-size 0.0000001")
    location = next(t.location for t in Client(backend).get_task_runs(run_id)
                    if t.task_slug == "load")
    Path(location).unlink()
    with pytest.raises(UsageError, match=r"cannot read the checkpoint of 'load'"):
        flow(shell, f"debug {run_id} check")
