"""The package's layers hold: `lint-imports` checks the contracts in pyproject.toml (README
"Layout"), so CI fails when a module imports a layer above it, even lazily."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def lint_imports(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    command = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert command is not None, "lint-imports is missing: pip install -e '.[test]'"
    return subprocess.run([command, "--no-cache", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def test_the_layer_contracts_are_kept() -> None:
    result = lint_imports()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 2 kept, 0 broken." in result.stdout


@pytest.fixture
def package_with_an_upward_import(tmp_path: Path) -> Path:
    """A copy of the package in which the executors import the engine again."""
    shutil.copytree(ROOT / "jupyter_flows", tmp_path / "jupyter_flows",
                    ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    local = tmp_path / "jupyter_flows" / "executors" / "local.py"
    local.write_text(local.read_text() + "\n\ndef _state() -> object:\n"
                     "    from jupyter_flows.engine.states import Failed\n\n"
                     "    return Failed\n")
    return tmp_path


def test_a_lazy_upward_import_breaks_the_contract(package_with_an_upward_import: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # the copy must be the package lint-imports analyses, not the installed one
    monkeypatch.setenv("PYTHONPATH", str(package_with_an_upward_import))
    result = lint_imports(cwd=package_with_an_upward_import)
    assert result.returncode == 1
    assert "jupyter_flows.executors is not allowed to import jupyter_flows.engine" \
        in result.stdout
    assert "jupyter_flows.executors.local -> jupyter_flows.engine.states" in result.stdout
