"""`jupyter-flows ... --help` for every command: flags show no type, docstrings wrap as
paragraphs (no sentence broken where the source line ended), options with values keep theirs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from jupyter_flows.cli import app
from jupyter_flows.cli.apps import one_line_paragraphs


def _commands(command: Any, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], Any]]:
    found = [(path, command)]
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        found += _commands(sub, (*path, name))
    return found


COMMANDS = _commands(typer.main.get_command(app))


def render(path: tuple[str, ...], width: int) -> str:
    result = CliRunner().invoke(app, [*path, "--help"], env={"COLUMNS": str(width)},
                                prog_name="jupyter-flows")
    assert result.exit_code == 0, result.output
    return result.output


def first_paragraph(command: Any) -> str:
    text = one_line_paragraphs(command.help) or ""
    return text.split("\n\n")[0]


def test_the_tree_is_walked() -> None:
    paths = {" ".join(path) for path, _ in COMMANDS}
    assert {"up", "run", "server start", "agent local start", "agent docker start"} <= paths


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=lambda p: " ".join(p) or "root")
def test_help_shows_no_type_on_flags(path: tuple[str, ...]) -> None:
    out = render(path, 120)
    assert "<bool>" not in out
    help_rows = [line for line in out.splitlines() if "--help" in line]
    assert help_rows and all("<" not in row for row in help_rows), help_rows


@pytest.mark.parametrize("path", [p for p, c in COMMANDS if c.help],
                         ids=lambda p: " ".join(p) or "root")
def test_a_docstring_paragraph_is_one_line_when_it_fits(path: tuple[str, ...]) -> None:
    command = dict(COMMANDS)[path]
    paragraph = first_paragraph(command)
    assert len(paragraph) < 180  # so that at 200 columns it must fit on one line
    lines = [re.sub(r"[│\s]+", " ", line).strip() for line in render(path, 200).splitlines()]
    assert paragraph in lines, f"{paragraph!r} is broken across lines:\n" + "\n".join(lines)
    if path:  # the parent group's list of commands shows it whole, too
        listing = [re.sub(r"\s+", " ", line.strip("│ ")) for line in
                   render(path[:-1], 200).splitlines()]
        assert f"{path[-1]} {paragraph}" in listing, "\n".join(listing)


def test_options_that_take_values_keep_their_types_and_flags_have_none() -> None:
    rows = {line.split()[1]: line for line in render(("up",), 120).splitlines()
            if line.startswith("│ --")}
    assert "<int>" in rows["--port"] and "[default: 4200]" in rows["--port"]
    assert "<" not in rows["--lab"] and "<" not in rows["--exit-after-demo"]
    run_rows = [line for line in render(("run",), 120).splitlines() if "--watch" in line]
    assert run_rows and "<" not in run_rows[0]


def test_the_installed_command_renders_the_same() -> None:
    out = subprocess.run([sys.executable, "-m", "jupyter_flows", "up", "--help"],
                         capture_output=True, text=True, timeout=60, check=True,
                         env={**os.environ, "COLUMNS": "160"}).stdout
    assert "<bool>" not in out
    assert ("Start the embedded backend and a local agent, run the demo flow through them, and "
            "optionally JupyterLab with the flows panel.") in out
