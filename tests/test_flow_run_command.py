"""``python -m jupyter_flows execute flow-run ID``, as every agent launches it: it runs
without the command-line framework (typer and rich are a fifth of a second of every run's
start) and says why a run cannot start in one ``error:`` line."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_flows.server.testing import running_server


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("backend") / "backend.db") as url:
        yield url


def execute(url: str, *args: str, python: tuple[str, ...] = ()
            ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "JUPYTER_FLOWS_BACKEND_URL": url}
    return subprocess.run([sys.executable, *python, "-m", "jupyter_flows", "execute",
                           "flow-run", *args], env=env, capture_output=True, text=True,
                          timeout=120)


def test_an_unknown_run_is_one_error_line_and_exit_2(backend: str) -> None:
    done = execute(backend, "no-such-run", python=("-X", "importtime"))
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith("error: flow run no-such-run: ")
    imported = {line.rsplit("|", 1)[-1].strip() for line in done.stderr.splitlines()
                if line.startswith("import time:")}
    assert "jupyter_flows.flow_run.execute" in imported
    assert not {"typer", "jupyter_flows.cli"} & imported


def test_the_command_line_still_answers_help_and_mistakes(backend: str,
                                                          tmp_path: Path) -> None:
    helped = execute(backend, "--help")
    assert helped.returncode == 0 and "Run one backend flow run" in helped.stdout
    missing = execute(backend)
    assert missing.returncode == 2 and "Missing argument" in missing.stderr
