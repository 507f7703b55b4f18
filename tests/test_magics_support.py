"""Shared fixtures of the magics tests (no tests here): a real IPython shell per test with
``%load_ext jupyter_flows``, and the four-cell notebook the tests register and run.

Test modules import ``shell_fixture`` / ``fresh_shell_fixture``, which pytest then offers as
the fixtures ``shell`` and ``fresh_shell``."""

from __future__ import annotations

import atexit
import builtins
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from IPython.core.interactiveshell import InteractiveShell
from traitlets.config import Config

# load -> clean (redefines rows) -> features -> report. `mark` (a notebook function) writes
# each run of a cell to the side-effect file LOG, so tests can count executions.
NOTEBOOK_SETUP = '''
LOG = {log!r}
SCALE = 2

def mark(name):
    with open(LOG, "a") as f:
        f.write(name + "\\n")
'''
CELLS = {
    "load": "rows = [3, None, 1, 4, None, 9]\nmark('load')\n",
    "clean": (
        "dropped = len([r for r in rows if r is None])\n"
        "rows = [r for r in rows if r is not None]\n"
        "mark('clean')\n"
    ),
    "features": (
        "import math\n"
        "scaled = [r * SCALE for r in rows]\n"
        "roots = [math.sqrt(r) for r in rows]\n"
        "mark('features')\n"
    ),
    "report": (
        "report = f'{len(rows)} rows ({dropped} dropped), total {sum(scaled)},'"
        " f' max root {max(roots):.1f}'\n"
        "mark('report')\n"
    ),
}
REPORT = "4 rows (2 dropped), total 34, max root 3.0"


def new_shell() -> InteractiveShell:
    """A fresh shell (the singleton, so ``display`` reaches it) with the extension loaded."""
    InteractiveShell.clear_instance()
    config = Config()
    config.HistoryManager.enabled = False
    shell = InteractiveShell.instance(config=config)
    shell.run_line_magic("load_ext", "jupyter_flows")
    return shell


@pytest.fixture(name="fresh_shell")
def fresh_shell_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                ) -> Iterator[Callable[[], InteractiveShell]]:
    """Makes fresh shells (one at a time: each call replaces the last); undoes what IPython
    changes in the process (``__main__``, builtins) when the test ends."""
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)  # set when run inside Jupyter
    main = sys.modules["__main__"]
    names = set(vars(builtins))
    made: list[InteractiveShell] = []

    def make() -> InteractiveShell:
        made.append(new_shell())
        return made[-1]

    try:
        yield make
    finally:
        # IPython registers each shell's exit work with atexit, which keeps every shell of
        # the session (and its namespace) alive to the end and then collects the whole heap
        # once per shell there (minutes at the end of the suite): let each go with its test
        for shell in made:
            atexit.unregister(shell.atexit_operations)
            shell.user_ns.clear()
        InteractiveShell.clear_instance()
        sys.modules["__main__"] = main
        for name in set(vars(builtins)) - names:
            delattr(builtins, name)


@pytest.fixture(name="shell")
def shell_fixture(fresh_shell: Callable[[], InteractiveShell]) -> InteractiveShell:
    return fresh_shell()


def task_cell(shell: InteractiveShell, line: str, body: str) -> None:
    shell.run_cell_magic("task", line, body)


def flow(shell: InteractiveShell, line: str) -> Any:
    return shell.run_line_magic("flow", line)


def setup_notebook(shell: InteractiveShell, log: Path, cells: dict[str, str] | None = None
                   ) -> None:
    """The plain setup cell, then the task cells, registered in order."""
    result = shell.run_cell(NOTEBOOK_SETUP.format(log=str(log)))
    assert result.success, result
    for name, body in (cells or CELLS).items():
        task_cell(shell, name, body)


def runs(log: Path) -> list[str]:
    """The cells that ran, in order, from the side-effect file."""
    return log.read_text().split() if log.exists() else []
