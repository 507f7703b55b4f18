"""``%%task`` registration through a real IPython shell: names, re-registration, errors that
name the cell and the variable, ``--after``, warnings, ``%flow list/show/clear/remove``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell
from test_magics_support import (
    flow,
    fresh_shell_fixture,  # noqa: F401  (the fresh_shell fixture)
    setup_notebook,
    shell_fixture,  # noqa: F401  (the shell fixture)
    task_cell,
)

from jupyter_flows.widgets.dag import DagView


def registered(shell: InteractiveShell, flow_name: str = "notebook") -> list[str]:
    magics = shell.magics_manager.registry["FlowMagics"]
    return list(magics.notebook.cell_flows[flow_name].cells)


# ------------------------------------------------------------------------------ loading
def test_load_ext_registers_the_magics_once(shell: InteractiveShell) -> None:
    magics = shell.magics_manager.magics
    assert "task" in magics["cell"] and "flow" in magics["cell"] and "flow" in magics["line"]
    task_cell(shell, "load", "rows = [1]\n")
    shell.run_line_magic("load_ext", "jupyter_flows")  # again: "already loaded"
    from jupyter_flows import load_ipython_extension

    load_ipython_extension(shell)  # directly: keeps the notebook's flows
    assert registered(shell) == ["load"]


def test_extension_loads_from_the_ipython_config(tmp_path: Path) -> None:
    code = "%%task load\nrows = [1, 2]\n"
    script = tmp_path / "cells.ipy"
    script.write_text(code + "\n")
    env = {**os.environ, "IPYTHONDIR": str(tmp_path / "ipython")}
    out = subprocess.run(
        [sys.executable, "-m", "IPython", "--quick", "--no-banner", "--colors=nocolor",
         "--InteractiveShellApp.extensions=['jupyter_flows']", str(script)],
        capture_output=True, text=True, env=env, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    assert "task 'load' registered in flow 'notebook': reads nothing; defines rows" in out.stdout


# --------------------------------------------------------------------------- registering
def test_registering_prints_a_summary_and_runs_nothing(shell: InteractiveShell, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]
                                                       ) -> None:
    setup_notebook(shell, tmp_path / "log")
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "task 'load' registered in flow 'notebook': reads mark (notebook); defines rows",
        "task 'clean' registered in flow 'notebook': reads rows (from 'load'), mark (notebook);"
        " defines dropped, rows",
        "task 'features' registered in flow 'notebook': reads rows (from 'clean'), SCALE"
        " (notebook), mark (notebook); defines math, roots, scaled",
        "task 'report' registered in flow 'notebook': reads dropped (from 'clean'), roots (from"
        " 'features'), rows (from 'clean'), scaled (from 'features'), mark (notebook);"
        " defines report",
    ]
    assert "rows" not in shell.user_ns and not (tmp_path / "log").exists()
    assert registered(shell) == ["load", "clean", "features", "report"]


def test_re_registering_a_cell_replaces_it_in_place(shell: InteractiveShell, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    setup_notebook(shell, tmp_path / "log")
    capsys.readouterr()
    task_cell(shell, "clean", "rows = [r for r in rows if r]\nmark('clean')\n")
    assert registered(shell) == ["load", "clean", "features", "report"]
    out = capsys.readouterr().out
    assert "task 'clean' registered" in out and "defines rows" in out
    # report read `dropped`, which no cell defines any more
    assert ("note: flow 'notebook' cannot run until this is fixed: cell 'report' reads"
            " 'dropped', which no earlier task cell defines and the notebook does not have") in out


def test_options_become_task_options(shell: InteractiveShell) -> None:
    shell.run_cell("x = 1")
    task_cell(shell, "a --retries 2 --retry-delay 0.5 --timeout 30 --tags etl nightly --no-cache",
              "y = x + 1\n")
    task = flow(shell, "show").flow.task_by_slug("a")
    assert (task.max_retries, task.retry_delay, task.timeout) == (2, 0.5, 30.0)
    assert task.tags == {"etl", "nightly"} and task.cache_for is None


def test_cells_go_to_the_flow_named_by_flow(shell: InteractiveShell,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    task_cell(shell, "a --flow etl", "x = 1\n")
    task_cell(shell, "b --flow etl", "y = x\n")
    task_cell(shell, "c", "z = 3\n")
    assert registered(shell, "etl") == ["a", "b"] and registered(shell) == ["c"]
    capsys.readouterr()
    flow(shell, "list")
    assert capsys.readouterr().out.splitlines() == [
        "etl (2 task cells, in registration order):",
        "  a  reads nothing; defines x",
        "  b  reads x; defines y",
        "notebook (1 task cells, in registration order):",
        "  c  reads nothing; defines z",
        "cells without --flow go to flow 'notebook': this kernel does not know its notebook's"
        " file name; choose another name with %%task --flow NAME",
    ]
    with pytest.raises(UsageError, match="no flow named 'nope' in this notebook"):
        flow(shell, "clear nope")
    flow(shell, "clear etl")
    assert list(shell.magics_manager.registry["FlowMagics"].notebook.cell_flows) == ["notebook"]
    flow(shell, "clear")
    capsys.readouterr()
    flow(shell, "list")
    assert "no flows yet" in capsys.readouterr().out


@pytest.mark.parametrize("source", ["__session__", "__vsc_ipynb_file__", "JPY_SESSION_NAME"])
def test_the_default_flow_is_named_after_the_notebook(
        shell: InteractiveShell, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], source: str) -> None:
    path = "/home/me/reports/sales-2024.ipynb"
    if source == "JPY_SESSION_NAME":  # what jupyter_server sets for the kernels it starts
        monkeypatch.setenv(source, path)
    else:  # ipykernel's copy of it; VS Code's own
        shell.user_ns[source] = path
    task_cell(shell, "load", "rows = [1, 2]\n")
    task_cell(shell, "total --flow other", "n = 3\n")
    assert registered(shell, "sales-2024") == ["load"] and registered(shell, "other") == ["total"]
    assert "task 'load' registered in flow 'sales-2024'" in capsys.readouterr().out
    flow(shell, "list")
    assert capsys.readouterr().out.splitlines()[-1] == (
        "cells without --flow go to flow 'sales-2024', named after the notebook"
        " sales-2024.ipynb; choose another name with %%task --flow NAME")
    flow(shell, "run")  # without NAME: the notebook's flow
    assert shell.user_ns["rows"] == [1, 2] and "n" not in shell.user_ns
    assert "notebook" not in shell.magics_manager.registry["FlowMagics"].notebook.cell_flows


def test_a_console_session_is_no_notebook_name(shell: InteractiveShell) -> None:
    shell.user_ns["__session__"] = "/home/me/console-1-3f2b"
    task_cell(shell, "load", "rows = [1]\n")
    assert registered(shell) == ["load"]


def test_loop_variables_are_not_listed_as_outputs(shell: InteractiveShell,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    task_cell(shell, "load", "rows = [{'n': 1}, {'n': 20}]\n")
    task_cell(shell, "count", "big = 0\nfor row in rows:\n    big += row['n'] > 10\n")
    task_cell(shell, "flag", "for row in rows:\n    row['big'] = row['n'] > 10\n")
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "task 'count' registered in flow 'notebook': reads rows (from 'load');" \
                     " defines big"
    assert out[2] == "task 'flag' registered in flow 'notebook': reads rows (from 'load');" \
                     " defines nothing"
    assert out[3] == (
        "warning: cell 'flag' changes 'rows' (row['big'] = ... in the loop `for row in rows`),"
        " which cell 'load' defined; when the cell runs in another process (local-dask"
        " processes, dask, an agent) that change is lost: build new items instead of changing"
        " them (rows = [... for row in rows])")
    flow(shell, "list")
    assert "  count  reads rows; defines big" in capsys.readouterr().out
    flow(shell, "run")
    assert shell.user_ns["big"] == 1 and "row" not in shell.user_ns
    assert "set in the notebook: rows, big\n" in capsys.readouterr().out


def test_unnamed_cells_are_named_after_their_execution_count(
        shell: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    count = shell.execution_count  # In[count]
    shell.run_cell("%%task\nx = 1\n", store_history=True, cell_id="cell-id-a")
    out = capsys.readouterr().out
    assert f"task 'cell-{count}' registered in flow 'notebook' (name it with %%task NAME)" in out
    shell.run_cell("%%task\ny = x\n", store_history=True, cell_id="cell-id-b")
    # the same notebook cell run again keeps its name and its place
    shell.run_cell("%%task\nx = 2\n", store_history=True, cell_id="cell-id-a")
    assert registered(shell) == [f"cell-{count}", f"cell-{count + 1}"]
    # naming it later renames it in place
    shell.run_cell("%%task first\nx = 3\n", store_history=True, cell_id="cell-id-a")
    assert registered(shell) == ["first", f"cell-{count + 1}"]
    assert "(renamed from" in capsys.readouterr().out
    # without cell ids (a plain terminal), two unnamed cells of one count still differ
    task_cell(shell, "", "p = 1\n")
    task_cell(shell, "", "q = 1\n")
    assert len(registered(shell)) == 4


def test_a_cell_moved_to_another_flow_leaves_the_first(shell: InteractiveShell) -> None:
    shell.run_cell("%%task a\nx = 1\n", cell_id="id-1")
    shell.run_cell("%%task b\ny = 1\n", cell_id="id-2")
    shell.run_cell("%%task a --flow other\nx = 1\n", cell_id="id-1")
    assert registered(shell) == ["b"] and registered(shell, "other") == ["a"]


# ------------------------------------------------------------------------------- errors
@pytest.mark.parametrize(("body", "message"), [
    ("rows = [1,\n", "cell 'clean': syntax error at line 2"),
    ("x = 1\nfrom os.path import *\n", "cell 'clean': line 3: 'from os.path import *' binds"),
    ("x = 1\nreturn x\n", "cell 'clean': syntax error at line 3: 'return' outside function"),
])
def test_a_cell_that_cannot_be_analysed_keeps_its_previous_version(
        shell: InteractiveShell, body: str, message: str) -> None:
    task_cell(shell, "clean", "rows = [1, 2]\n")
    with pytest.raises(UsageError) as caught:
        task_cell(shell, "clean", body)
    assert message in str(caught.value)
    assert "nothing was registered" in str(caught.value)
    magics = shell.magics_manager.registry["FlowMagics"]
    assert magics.notebook.cell_flows["notebook"].cells["clean"].body == "rows = [1, 2]\n"


def test_a_syntax_error_shows_in_the_cell_without_a_traceback(
        shell: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    result = shell.run_cell("%%task broken\nx = (\n")
    assert isinstance(result.error_in_exec, UsageError)
    err = capsys.readouterr().err
    assert "UsageError: cell 'broken': syntax error" in err and "Traceback" not in err


def test_reading_an_undefined_name_names_the_cell_and_the_variable(
        shell: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    task_cell(shell, "load", "rows = [1]\n")
    task_cell(shell, "report", "total = sum(rows) + bonus\n")
    expected = ("cell 'report' reads 'bonus', which no earlier task cell defines and the"
                " notebook does not have")
    assert expected in capsys.readouterr().out
    for command in ("show", "run"):
        with pytest.raises(UsageError, match=expected):
            flow(shell, command)
    shell.run_cell("bonus = 10")  # a notebook variable now
    assert flow(shell, "show").flow.constants


def test_a_name_defined_by_a_later_cell_says_to_move_it(shell: InteractiveShell) -> None:
    task_cell(shell, "report", "total = sum(rows)\n")
    task_cell(shell, "load", "rows = [1]\n")
    with pytest.raises(UsageError, match="it is defined by the later cell 'load'; move that"):
        flow(shell, "show")


def test_after_adds_an_order_edge_and_a_cycle_is_an_error(shell: InteractiveShell) -> None:
    task_cell(shell, "setup", "import os\n")
    task_cell(shell, "load", "rows = [1]\n")
    task_cell(shell, "use --after setup", "n = len(rows)\n")
    view = flow(shell, "show")
    assert isinstance(view, DagView)
    edges = {(e.upstream.slug, e.downstream.slug, e.key) for e in view.flow.edges}
    assert edges == {("setup", "use", None), ("load", "use", "rows")}
    task_cell(shell, "setup --after use", "import os\n")
    with pytest.raises(UsageError, match=r"task cells form a cycle: .*setup.*use"):
        flow(shell, "show")


def test_after_an_unknown_cell_is_reported(shell: InteractiveShell,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    task_cell(shell, "load", "rows = [1]\n")
    task_cell(shell, "use --after laod", "n = 1\n")
    assert "is to run after 'laod', which is not a task cell of the notebook; did you mean" \
        " 'load'?" in capsys.readouterr().out


def test_an_in_place_change_of_an_upstream_value_is_warned(
        shell: InteractiveShell, capsys: pytest.CaptureFixture[str]) -> None:
    task_cell(shell, "load", "rows = [1]\n")
    task_cell(shell, "extend", "rows.append(2)\n")
    out = capsys.readouterr().out.splitlines()
    assert out[-1].startswith("warning: cell 'extend' changes 'rows' (rows.append(...)), which"
                              " cell 'load' defined; when the cell runs in another process")


@pytest.mark.parametrize(("line", "message"), [
    ("a --retries -1", "expected a count >= 0"),
    ("a --timeout 0", "expected seconds > 0"),
    ("a --bogus", "unrecognized arguments: --bogus"),
    ("bad/name", "'bad/name' is not a cell name"),
])
def test_bad_task_options_are_usage_errors(shell: InteractiveShell, line: str,
                                           message: str) -> None:
    with pytest.raises(UsageError, match=message):
        task_cell(shell, line, "x = 1\n")


@pytest.mark.parametrize(("line", "message"), [
    ("bogus", "invalid choice: 'bogus'"),
    ("run --executor warp", "--executor: expected local, local-dask"),
    ("run --param nope", "--param expects KEY=VALUE, got 'nope'"),
    ("show etl", "no flow named 'etl' in this notebook; its flows are: notebook"),
    ("status", "nothing was submitted from this notebook yet"),
    ("remove nope", "no task cell named 'nope'"),
])
def test_bad_flow_commands_are_usage_errors(shell: InteractiveShell, line: str,
                                            message: str) -> None:
    task_cell(shell, "a", "x = 1\n")
    with pytest.raises(UsageError, match=message):
        flow(shell, line)


def test_help_does_not_leave_the_kernel(shell: InteractiveShell,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    flow(shell, "run --help")
    task_cell(shell, "--help", "x = 1\n")
    out = capsys.readouterr().out
    assert "--persist DIR" in out and "--retry-delay S" in out


def test_show_returns_a_dag_view_with_the_names_on_the_edges(shell: InteractiveShell,
                                                             tmp_path: Path) -> None:
    setup_notebook(shell, tmp_path / "log")
    view = flow(shell, "show")
    assert isinstance(view, DagView)
    assert view.text().splitlines() == [
        "flow 'notebook'",
        "  load",
        "  clean <- load as rows",
        "  features <- clean as rows",
        "  report <- clean as dropped, rows, features as roots, scaled",
    ]
    assert "image/svg+xml" in view._repr_mimebundle_()
    # notebook variables are bound to the tasks as constants, with their current values
    constants = {t.slug: values for t, values in view.flow.constants.items()}
    assert constants["features"]["SCALE"] == 2


def test_remove_forgets_one_cell(shell: InteractiveShell) -> None:
    task_cell(shell, "a", "x = 1\n")
    task_cell(shell, "b", "y = 2\n")
    flow(shell, "remove a")
    assert registered(shell) == ["b"]


def test_task_cells_and_a_flow_cell_cannot_share_a_flow_name(shell: InteractiveShell) -> None:
    task_cell(shell, "a --flow etl", "x = 1\n")
    with pytest.raises(UsageError, match="flow 'etl' is made of %%task cells"):
        shell.run_cell_magic("flow", "etl", "pass\n")
    shell.run_cell_magic("flow", "other", "pass\n")
    with pytest.raises(UsageError, match="flow 'other' was built by a %%flow cell"):
        task_cell(shell, "b --flow other", "y = 1\n")
