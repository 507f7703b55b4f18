"""What the JupyterLab extension tells the kernel (issue 10): edited task cells are stale
until they are run, deleted ones leave their flow, and the notebook's path names the default
flow. Through a real IPython shell (the snapshot handed to the kernel's end of the comm), then
through a real ipykernel kernel with the comm itself, and notebooks run by nbclient."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest
from IPython.core.interactiveshell import InteractiveShell
from kernel_support import Kernel, kernel_fixture  # noqa: F401 (the kernel fixture)
from test_magics_support import (
    flow,
    fresh_shell_fixture,  # noqa: F401  (the fresh_shell fixture)
    shell_fixture,  # noqa: F401  (the shell fixture)
)

from jupyter_flows.notebook.frontend import COMM_TARGET, task_parts


@pytest.fixture(autouse=True)
def no_live_view(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "jupyter_flows.widgets.live", None)


def magics(shell: InteractiveShell) -> Any:
    return shell.magics_manager.registry["FlowMagics"]


def cell(shell: InteractiveShell, cell_id: str, source: str) -> None:
    """Run a notebook cell as JupyterLab does: with its cell id."""
    result = shell.run_cell(source, store_history=True, cell_id=cell_id)
    assert result.success, result.error_in_exec or result.error_before_exec


def tell(shell: InteractiveShell, cells: dict[str, str | None], path: str | None = None) -> None:
    """What the extension sends: every code cell, with its source when it is a %%task cell."""
    magics(shell).frontend.receive(
        {"path": path, "cells": [{"id": k, "source": v} for k, v in cells.items()]})


LOAD = "%%task load\nrows = [1, 2]"
TOTAL = "%%task total\nn = sum(rows)"


def test_task_parts_reads_a_cell_as_ipython_does() -> None:
    assert task_parts("\n%%task load --retries 2\nx = 1\n") == ("load --retries 2", "x = 1\n")
    assert task_parts("%%task\nx = 1") == ("", "x = 1")
    assert task_parts("%%taskx\nx = 1") is None and task_parts("x = 1") is None


def test_an_edited_cell_is_stale_until_it_is_run(shell: InteractiveShell,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    cell(shell, "c1", LOAD)
    cell(shell, "c2", TOTAL)
    tell(shell, {"c0": None, "c1": LOAD, "c2": TOTAL})
    flow(shell, "run")
    assert shell.user_ns["n"] == 3 and "stale" not in capsys.readouterr().out

    edited = "%%task load\nrows = [1, 2, 3]"
    tell(shell, {"c0": None, "c1": edited, "c2": TOTAL})  # edited in Lab, not run
    flow(shell, "run")
    out = capsys.readouterr().out
    assert out.splitlines()[0] == (
        "note: task cell 'load' was edited since registered (stale); this run uses its"
        " registered code: run it to register the edit")
    assert "(2 Cached)" in out and shell.user_ns["n"] == 3  # what it runs: the registered code
    view = flow(shell, "show")
    assert view.marks == {"load": "stale: edited, not run"}
    assert "  load [Cached] (stale: edited, not run)" in view.text().splitlines()
    assert 'class="node stale"' in view.svg()
    flow(shell, "list")
    assert "  load   reads nothing; defines rows  [stale: edited since it was registered;" \
        " run it to register the edit]" in capsys.readouterr().out

    cell(shell, "c1", edited)  # run: registered, no longer stale
    capsys.readouterr()
    flow(shell, "run")
    out = capsys.readouterr().out
    assert "stale" not in out and shell.user_ns["n"] == 6
    assert flow(shell, "show").marks == {}


def test_a_deleted_task_cell_leaves_the_flow(shell: InteractiveShell,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    cell(shell, "c1", LOAD)
    cell(shell, "c2", "%%task flag_big\nbig = [r for r in rows if r > 1]")
    cell(shell, "c3", "%%task flag_first\nfirst = rows[0]")
    cell(shell, "c4", TOTAL)
    tell(shell, {"c1": LOAD, "c3": "first = rows[0]", "c4": TOTAL})  # c2 deleted, c3 plain now
    capsys.readouterr()
    flow(shell, "list")
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == [
        "note: task 'flag_big' left flow 'notebook': its notebook cell was deleted",
        "note: task 'flag_first' left flow 'notebook': its notebook cell is no longer a"
        " %%task cell",
    ]
    assert list(magics(shell).notebook.cell_flows["notebook"].cells) == ["load", "total"]
    flow(shell, "list")
    assert "left flow" not in capsys.readouterr().out  # said once


def test_cells_without_a_cell_id_are_never_stale(shell: InteractiveShell,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    shell.run_cell_magic("task", "load", "rows = [1]\n")  # a terminal: no cell ids
    tell(shell, {"c1": "%%task load\nrows = [2]"})
    flow(shell, "run")
    assert "stale" not in capsys.readouterr().out
    assert list(magics(shell).notebook.cell_flows["notebook"].cells) == ["load"]


def test_the_extension_names_the_default_flow(shell: InteractiveShell,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    shell.user_ns["__session__"] = "/srv/old-name.ipynb"  # set when the kernel started
    tell(shell, {"c1": LOAD}, path="reports/renamed.ipynb")  # the file as it is called now
    cell(shell, "c1", LOAD)
    assert "registered in flow 'renamed'" in capsys.readouterr().out


def test_a_malformed_snapshot_is_ignored(shell: InteractiveShell,
                                         caplog: pytest.LogCaptureFixture) -> None:
    magics(shell).frontend.receive({"cells": "not a list"})
    assert magics(shell).frontend.snapshot is None
    assert "ignored a notebook snapshot" in caplog.text


# ------------------------------------------------------------------ a real kernel
def test_the_comm_carries_the_notebook_to_a_real_kernel(kernel: Kernel) -> None:
    opened = kernel.execute("%load_ext jupyter_flows", "c0").opened
    assert [c["target_name"] for c in opened] == [COMM_TARGET]  # the kernel's comm
    out = kernel.execute(LOAD, "c1").text
    assert "registered in flow 'notebook'" in out  # nbclient and friends: as before
    kernel.execute(TOTAL, "c2")

    edited = "%%task load\nrows = [5]"
    kernel.comm_open({"path": "reports/costs.ipynb",
                      "cells": [{"id": "c0"}, {"id": "c1", "source": edited}]},  # c2 deleted
                     COMM_TARGET)
    out = kernel.execute("%flow list", "c3").text
    assert "note: task 'total' left flow 'notebook': its notebook cell was deleted" in out
    assert "load  reads nothing; defines rows  [stale: edited since it was registered" in out
    assert "cells without --flow go to flow 'costs', named after the notebook costs.ipynb" in out
    out = kernel.execute("%%task other\nz = 1", "c4").text
    assert "task 'other' registered in flow 'costs'" in out


# -------------------------------------------------------------------- nbclient
def run_notebook(path: Path, cells: list[str]) -> list[str]:
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    NotebookClient(nb, kernel_name="python3", timeout=120,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    nbformat.write(nb, path)
    return ["".join(o.get("text", "") for o in c.outputs) for c in nb.cells]


def test_each_notebook_gets_a_flow_of_its_own(tmp_path: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    cells = ["%load_ext jupyter_flows", "%%task load\nrows = [1]", "%flow list"]
    for name in ("sales", "costs"):
        path = tmp_path / f"{name}.ipynb"
        monkeypatch.setenv("JPY_SESSION_NAME", str(path))  # as jupyter_server starts kernels
        outputs = run_notebook(path, cells)
        assert f"task 'load' registered in flow {name!r}" in outputs[1]
        assert outputs[2].splitlines()[0] == f"{name} (1 task cells, in registration order):"
    monkeypatch.delenv("JPY_SESSION_NAME")
    outputs = run_notebook(tmp_path / "plain.ipynb", cells)  # the kernel cannot know: as before
    assert "task 'load' registered in flow 'notebook'" in outputs[1]
    assert "this kernel does not know its notebook's file name" in outputs[2]
