"""``%flow run`` through a real IPython shell: outputs back in the notebook, tracebacks with the
cell's own line numbers, incremental re-runs, ``--persist``, ``--param``, ``%%flow`` cells,
the live view and settings widget hooks, and what a ``CellTask`` needs to travel."""

from __future__ import annotations

import pickle
import subprocess
import sys
import types
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cloudpickle
import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from test_magics_support import (
    CELLS,
    REPORT,
    flow,
    fresh_shell_fixture,  # noqa: F401  (the fresh_shell fixture)
    runs,
    setup_notebook,
    shell_fixture,  # noqa: F401  (the shell fixture)
    task_cell,
)

from jupyter_flows.cells.tasks import CellOutputs, CellTask
from jupyter_flows.engine.observers import RunObserver
from jupyter_flows.widgets.dag import DagView

ALL = ["load", "clean", "features", "report"]


def states_of(shell: InteractiveShell, name: str = "notebook") -> dict[str, str]:
    view = flow(shell, f"show {name}")
    return {t.slug: s.name for t, s in view.task_states.items()}


@pytest.fixture(autouse=True)
def no_live_view(monkeypatch: pytest.MonkeyPatch) -> None:
    """The live view is another module's; these tests run without it unless they fake one."""
    monkeypatch.setitem(sys.modules, "jupyter_flows.widgets.live", None)


# ----------------------------------------------------------------------------- running
@pytest.mark.parametrize("executor", ["", "--executor local", "--executor local-dask threads"])
def test_the_notebook_runs_and_its_outputs_come_back(shell: InteractiveShell, tmp_path: Path,
                                                     executor: str,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "log"
    setup_notebook(shell, log)
    capsys.readouterr()
    flow(shell, f"run {executor}")
    ns = shell.user_ns
    assert ns["report"] == REPORT
    assert ns["rows"] == [3, 1, 4, 9]  # clean's redefinition wins over load's
    assert ns["dropped"] == 2 and ns["scaled"] == [6, 2, 8, 18]
    assert isinstance(ns["math"], types.ModuleType)
    assert runs(log) == ALL
    out = capsys.readouterr().out.splitlines()
    described = "LocalDaskExecutor(threads)" if "dask" in executor else "LocalExecutor"
    assert out[0].startswith("flow 'notebook': Success in ")
    assert out[0].endswith(f" s on {described} (4 Success)")
    assert out[1:] == [
        "  load      Success",
        "  clean     Success",
        "  features  Success",
        "  report    Success",
        "set in the notebook: rows, dropped, math, roots, scaled, report",
    ]


def test_a_failing_cell_shows_its_own_line_numbers(shell: InteractiveShell, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    setup_notebook(shell, tmp_path / "log", {
        **CELLS, "features": "import math\nscaled = [r * SCALE for r in rows]\n"
                             "roots = [math.sqrt(r - 5) for r in rows]\n"})
    capsys.readouterr()
    with pytest.raises(UsageError) as caught:
        flow(shell, "run")
    assert str(caught.value) == (
        "flow 'notebook' failed: task 'features' raised ValueError: math domain error;"
        " did not run: report")
    captured = capsys.readouterr()
    assert "  features  Failed  ValueError: math domain error" in captured.out
    assert "  report    TriggerFailed" in captured.out
    # line 4 of the notebook cell, counting the %%task line as line 1
    err = captured.err.splitlines()
    assert err[:4] == [
        "task 'features' failed:",
        "Traceback (most recent call last):",
        "  File \"<task cell 'features'>\", line 4, in <module>",
        "    roots = [math.sqrt(r - 5) for r in rows]",
    ]
    assert err[-1] == "ValueError: math domain error"
    assert not any("jupyter_flows" in line for line in err)  # no engine frames
    # what ran before the failure is in the notebook
    assert shell.user_ns["rows"] == [3, 1, 4, 9] and "report" not in shell.user_ns


def test_a_failed_run_marks_the_notebook_cell_failed(shell: InteractiveShell,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    task_cell(shell, "boom", "x = 1\nraise KeyError('no such column')\n")
    result = shell.run_cell("%flow run")
    assert isinstance(result.error_in_exec, UsageError)
    assert "File \"<task cell 'boom'>\", line 3" in capsys.readouterr().err


def test_retries_and_timeout_apply_to_the_cell(shell: InteractiveShell, tmp_path: Path) -> None:
    shell.run_cell(f"COUNT = {str(tmp_path / 'count')!r}")
    task_cell(shell, "flaky --retries 2 --no-cache", (
        "with open(COUNT, 'a') as f:\n    f.write('x')\n"
        "if len(open(COUNT).read()) < 3:\n    raise RuntimeError('not yet')\n"
        "done = True\n"))
    flow(shell, "run")
    assert shell.user_ns["done"] is True and (tmp_path / "count").read_text() == "xxx"
    task_cell(shell, "slow --timeout 0.2 --no-cache", "import time\ntime.sleep(2)\n")
    with pytest.raises(UsageError, match="task 'slow' TimedOut: "):
        flow(shell, "run")


# -------------------------------------------------------------------------- incremental
def test_a_rerun_skips_unchanged_cells_and_reruns_what_changed(
        shell: InteractiveShell, tmp_path: Path) -> None:
    log = tmp_path / "log"
    setup_notebook(shell, log)
    flow(shell, "run")
    assert runs(log) == ALL

    flow(shell, "run")  # nothing changed
    assert runs(log) == ALL
    assert states_of(shell) == dict.fromkeys(ALL, "Cached")
    assert shell.user_ns["report"] == REPORT

    # a changed cell runs again, and so does what reads its changed outputs
    task_cell(shell, "features", CELLS["features"].replace("r * SCALE", "r * SCALE + 1"))
    flow(shell, "run")
    assert runs(log) == [*ALL, "features", "report"]
    assert states_of(shell) == {"load": "Cached", "clean": "Cached", "features": "Success",
                                "report": "Success"}
    assert shell.user_ns["scaled"] == [7, 3, 9, 19]

    # clean changes only `dropped`: features (which reads rows) stays cached
    task_cell(shell, "clean", CELLS["clean"].replace("dropped = len(", "dropped = 10 * len("))
    flow(shell, "run")
    assert runs(log)[6:] == ["clean", "report"]
    assert states_of(shell)["features"] == "Cached"
    assert shell.user_ns["dropped"] == 20

    # a notebook variable a cell reads is an input too
    shell.run_cell("SCALE = 3")
    flow(shell, "run")
    assert runs(log)[8:] == ["features", "report"]

    # a changed cell whose outputs come out the same stops there
    task_cell(shell, "load", "rows = list([3, None, 1, 4, None, 9])\nmark('load')\n")
    flow(shell, "run")
    assert runs(log)[10:] == ["load"]
    assert states_of(shell) == {"load": "Success", "clean": "Cached", "features": "Cached",
                                "report": "Cached"}


def test_force_and_no_cache_run_cells_again(shell: InteractiveShell, tmp_path: Path) -> None:
    log = tmp_path / "log"
    setup_notebook(shell, log)
    task_cell(shell, "report --no-cache", CELLS["report"])
    flow(shell, "run")
    flow(shell, "run")
    assert runs(log) == [*ALL, "report"]
    flow(shell, "run --force")
    assert runs(log) == [*ALL, "report", *ALL]
    flow(shell, "clear")  # forgets the cached outputs too
    setup_notebook(shell, log)
    flow(shell, "run")
    assert runs(log)[-4:] == ALL


def test_persist_keeps_the_cache_across_kernel_restarts(
        fresh_shell: Callable[[], InteractiveShell], tmp_path: Path) -> None:
    log, cache = tmp_path / "log", tmp_path / "cache"
    first = fresh_shell()
    setup_notebook(first, log)
    flow(first, f"run --persist {cache}")
    assert runs(log) == ALL

    second = fresh_shell()  # a new kernel: nothing in memory, the same notebook
    assert "report" not in second.user_ns
    setup_notebook(second, log)
    flow(second, f"run --persist {cache}")
    assert runs(log) == ALL  # nothing ran again
    assert states_of(second) == dict.fromkeys(ALL, "Cached")
    assert second.user_ns["report"] == REPORT
    assert isinstance(second.user_ns["math"], types.ModuleType)

    # without --persist, a new kernel runs everything
    third = fresh_shell()
    setup_notebook(third, log)
    flow(third, "run")
    assert runs(log) == [*ALL, *ALL]


def test_outputs_that_cannot_be_stored_are_a_note(shell: InteractiveShell, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    task_cell(shell, "locks", "import threading\nlock = threading.Lock()\n")
    flow(shell, f"run --persist {tmp_path / 'cache'}")
    out = capsys.readouterr().out
    assert "note: the outputs of 'locks' were not cached: TypeError" in out
    assert shell.user_ns["lock"] is not None


# ----------------------------------------------------------------------------- params
def test_param_replaces_a_notebook_variable_for_one_run(shell: InteractiveShell,
                                                        tmp_path: Path) -> None:
    setup_notebook(shell, tmp_path / "log")
    flow(shell, "run --param SCALE=10")
    assert shell.user_ns["scaled"] == [30, 10, 40, 90] and shell.user_ns["SCALE"] == 2
    with pytest.raises(UsageError, match="flow 'notebook' has no notebook input 'LIMIT'; its"
                       " task cells read these notebook variables: SCALE, mark"):
        flow(shell, "run --param LIMIT=3")


def test_param_can_supply_a_variable_the_notebook_lacks(shell: InteractiveShell) -> None:
    task_cell(shell, "greet", "greeting = f'hello {who}'\n")
    flow(shell, "run --param who=world")
    assert shell.user_ns["greeting"] == "hello world"


# ----------------------------------------------------------------------------- %%flow
TASKS = '''
from jupyter_flows import Parameter, task

@task
def numbers(n):
    return list(range(n))

@task
def total(xs, factor):
    return sum(xs) * factor
'''


def test_a_flow_cell_builds_a_flow_from_task_calls(shell: InteractiveShell,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert shell.run_cell(TASKS).success
    capsys.readouterr()
    shell.run_cell_magic("flow", "sums", "n = Parameter('n', default=4)\n"
                                         "result = total(numbers(n), factor=10)\n")
    from jupyter_flows import Flow

    sums = shell.user_ns["sums"]
    assert isinstance(sums, Flow) and len(sums.tasks) == 3
    assert "flow 'sums'" in capsys.readouterr().out  # the DagView, displayed
    view = flow(shell, "show sums")
    assert {(e.upstream.slug, e.downstream.slug, e.key) for e in view.flow.edges} == {
        ("n", "numbers-1", "n"), ("numbers-1", "total-1", "xs")}
    flow(shell, "run sums --param n=5")
    assert "flow 'sums': Success" in capsys.readouterr().out
    assert states_of(shell, "sums") == {"n": "Success", "numbers-1": "Success",
                                        "total-1": "Success"}
    flow(shell, "list")
    assert "sums (%%flow, 3 tasks): n, numbers-1, total-1" in capsys.readouterr().out


def test_a_flow_cell_that_raises_builds_nothing(shell: InteractiveShell) -> None:
    assert shell.run_cell(TASKS).success
    with pytest.raises(UsageError, match="flow 'bad' was not built: its cell raised"
                       " NameError: name 'nope' is not defined"):
        shell.run_cell_magic("flow", "bad", "total(nope, 1)\n")
    assert "bad" not in shell.user_ns
    with pytest.raises(UsageError, match="no flow named 'bad'"):
        flow(shell, "show bad")


# ------------------------------------------------------------------- live view, config
class FakeLiveRunView(RunObserver):
    made: list[FakeLiveRunView] = []

    def __init__(self, flow: Any) -> None:
        self.flow = flow
        self.events: list[str] = []
        self.made.append(self)

    def display(self) -> FakeLiveRunView:
        self.events.append("display")
        return self

    def task_state_changed(self, task: Any, map_index: int | None, state: Any) -> None:
        self.events.append(f"{task.slug}:{state.name}")

    def run_finished(self, flow: Any, state: Any) -> None:
        self.events.append(f"finished:{state.name}")


def test_the_live_view_watches_the_run_when_installed(shell: InteractiveShell,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    live = types.ModuleType("jupyter_flows.widgets.live")
    live.LiveRunView = FakeLiveRunView  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "jupyter_flows.widgets.live", live)
    FakeLiveRunView.made.clear()
    task_cell(shell, "a", "x = 1\n")
    flow(shell, "run")
    (view,) = FakeLiveRunView.made
    assert view.flow.name == "notebook"
    assert view.events[0] == "display" and view.events[-1] == "finished:Success"
    assert "a:Success" in view.events


def test_config_shows_the_settings_widget_or_says_it_is_missing(
        shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    task_cell(shell, "a", "x = undefined_yet\n")  # settings do not need a valid graph
    monkeypatch.setitem(sys.modules, "jupyter_flows.widgets.config", None)
    flow(shell, "config")
    assert "settings widget (jupyter_flows.widgets.config) is not available" in \
        capsys.readouterr().out
    shown: list[Any] = []
    widget_module = types.ModuleType("jupyter_flows.widgets.config")
    widget_module.flow_config_widget = (  # type: ignore[attr-defined]
        lambda f, current=None: shown.append(f) or "WIDGET")
    monkeypatch.setitem(sys.modules, "jupyter_flows.widgets.config", widget_module)
    flow(shell, "config")
    assert "WIDGET" in capsys.readouterr().out  # displayed
    (settings,) = shown
    # the same Flow object every time, so settings made on it last
    settings.executor = {"type": "local-dask", "scheduler": "threads"}
    shell.run_cell("undefined_yet = 1")
    assert flow(shell, "show").flow is settings
    capsys.readouterr()
    flow(shell, "run")
    assert "on LocalDaskExecutor(threads)" in capsys.readouterr().out


# ------------------------------------------------------------------------- travelling
def test_outputs_pickle_modules_by_name() -> None:
    import json
    import xml.etree.ElementTree

    outputs = CellOutputs({"json": json, "xml": xml, "n": 3},
                          submodules={"xml": ("xml.etree.ElementTree",)})
    data = pickle.dumps(outputs)  # plain pickle: no module objects inside
    back = pickle.loads(data)
    assert back["json"] is json and back["xml"] is xml and back["n"] == 3
    assert back.token("n") == outputs.token("n")
    code = ("import pickle, sys\n"
            "o = pickle.loads(sys.stdin.buffer.read())\n"
            "print(o['xml'].etree.ElementTree.__name__, o['json'].dumps([o['n']]))\n")
    out = subprocess.run([sys.executable, "-c", code], input=data, capture_output=True,
                         check=True)
    assert out.stdout.decode().split() == ["xml.etree.ElementTree", "[3]"]
    del xml.etree.ElementTree


def test_a_built_cell_flow_runs_in_a_fresh_process(shell: InteractiveShell,
                                                   tmp_path: Path) -> None:
    """What an agent or a process pool does: unpickle the flow elsewhere and run it. Cell
    sources, notebook functions (by value) and modules (by name) must all travel."""
    log = tmp_path / "log"
    setup_notebook(shell, log)
    built = flow(shell, "show").flow
    assert all(isinstance(t, CellTask) for t in built.tasks)
    data = cloudpickle.dumps(built)
    code = ("import pickle, sys\n"
            "flow = pickle.loads(sys.stdin.buffer.read())\n"
            "state = flow.run()\n"
            "report = next(t for t in flow.tasks if t.slug == 'report')\n"
            "print(state.name, state.result[report].result['report'])\n")
    out = subprocess.run([sys.executable, "-c", code], input=data, capture_output=True,
                         check=False, cwd=tmp_path)
    assert out.returncode == 0, out.stderr.decode()
    assert out.stdout.decode().strip() == f"Success {REPORT}"
    assert runs(log) == ALL


def test_process_pool_executor(shell: InteractiveShell, tmp_path: Path) -> None:
    log = tmp_path / "log"
    setup_notebook(shell, log)
    flow(shell, "run --executor local-dask processes")
    assert shell.user_ns["report"] == REPORT and isinstance(shell.user_ns["math"],
                                                            types.ModuleType)
    assert sorted(runs(log)) == sorted(ALL)


def test_dag_view_after_a_run_shows_the_states(shell: InteractiveShell) -> None:
    task_cell(shell, "a", "x = 1\n")
    task_cell(shell, "b", "y = x + 1\n")
    flow(shell, "run")
    view = flow(shell, "show")
    assert isinstance(view, DagView)
    assert "  b [Success] <- a as x" in view.text()
    task_cell(shell, "b", "y = x + 2\n")  # an edited cell has no state yet
    assert "  b <- a as x" in flow(shell, "show").text()


def test_the_installed_live_view_does_not_get_in_the_way(
        shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.delitem(sys.modules, "jupyter_flows.widgets.live")
    pytest.importorskip("jupyter_flows.widgets.live")
    task_cell(shell, "a", "x = 1\n")
    flow(shell, "run")
    assert shell.user_ns["x"] == 1
    assert "no live view" not in capsys.readouterr().err


def test_ipython_syntax_in_a_task_cell_runs_in_the_kernel(shell: InteractiveShell) -> None:
    shell.run_cell("x = 21")
    task_cell(shell, "timed", "%time y = x * 2\nz = y + 1\n")
    assert flow(shell, "show").flow.constants  # x, read inside the %time line
    result = shell.run_cell("%flow run")
    assert result.success, result
    assert (shell.user_ns["y"], shell.user_ns["z"]) == (42, 43)


# ------------------------------------------------------ IPython's names (issue 10, item 1)
def _display_records(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "jupyter_flows.task"]


def test_display_shows_in_the_kernel(shell: InteractiveShell,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    shell.run_cell("rows = [1, 2]")
    task_cell(shell, "chart", "display(rows)\nshown = True\n")
    capsys.readouterr()
    flow(shell, "run --executor local")
    assert shell.user_ns["shown"] is True
    assert "[1, 2]" in capsys.readouterr().out.splitlines()  # IPython's own display


def test_display_is_logged_on_a_process_pool(shell: InteractiveShell,
                                             caplog: pytest.LogCaptureFixture) -> None:
    shell.run_cell("rows = [1, 2]")
    task_cell(shell, "chart", "display(rows, {'n': len(rows)})\nshown = True\n")
    caplog.set_level("INFO", logger="jupyter_flows")
    flow(shell, "run --executor local-dask processes")
    assert shell.user_ns["shown"] is True
    assert _display_records(caplog) == ["display: [1, 2]", "display: {'n': 2}"]


def test_a_magic_on_a_process_pool_says_it_needs_the_kernel(shell: InteractiveShell) -> None:
    task_cell(shell, "timed", "%time y = 2\n")
    with pytest.raises(UsageError) as caught:
        flow(shell, "run --executor local-dask processes")
    assert "task 'timed' raised NoShellError: get_ipython().run_line_magic: this task cell" \
        " runs where no IPython shell is" in str(caught.value)


def test_display_works_where_ipython_is_not_installed(shell: InteractiveShell,
                                                      tmp_path: Path) -> None:
    """An agent's flow-run process without IPython: display logs, get_ipython() is falsy."""
    shell.run_cell("rows = [1, 2]")
    task_cell(shell, "chart", "display(rows)\nshell_here = bool(get_ipython())\n")
    data = cloudpickle.dumps(flow(shell, "show").flow)
    code = ("import logging, pickle, sys\n"
            "sys.modules['IPython'] = None  # no IPython in this process\n"
            "logging.basicConfig(level=logging.INFO, format='%(name)s %(message)s',"
            " stream=sys.stdout)\n"
            "flow = pickle.loads(sys.stdin.buffer.read())\n"
            "state = flow.run()\n"
            "chart = flow.tasks[0]\n"
            "print(state.name, state.result[chart].result['shell_here'])\n")
    out = subprocess.run([sys.executable, "-c", code], input=data, capture_output=True,
                         check=False, cwd=tmp_path)
    assert out.returncode == 0, out.stderr.decode()
    lines = out.stdout.decode().splitlines()
    assert "jupyter_flows.task display: [1, 2]" in lines
    assert lines[-1] == "Success False"
