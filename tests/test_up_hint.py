"""`up` tells how to call this installation's jupyter-flows: set-up leaves .venv/bin off PATH."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from jupyter_flows.cli.up import command_hint

BIN = Path(sys.executable).parent


def test_off_path_it_names_the_command_by_its_path_from_here(monkeypatch) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    command, activate = command_hint(cwd=BIN.parent.parent)
    assert command == f"{BIN.parent.name}/bin/jupyter-flows"
    assert (BIN.parent.parent / command).exists()
    assert activate == f"{BIN.parent.name}/bin/activate"


def test_from_elsewhere_the_path_is_absolute(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    command, _ = command_hint(cwd=tmp_path)
    assert command == str(BIN / "jupyter-flows")


def test_on_path_the_bare_name_is_enough(monkeypatch) -> None:
    monkeypatch.setenv("PATH", f"{BIN}{os.pathsep}/usr/bin:/bin")
    assert command_hint() == ("jupyter-flows", None)
