"""The committed JupyterLab extension build and its stamp (scripts/labextension_build.py).

The repository's own build must match its sources (a stale one would ship old JavaScript);
copies of labextension/ show what counts as stale, that building without npm says what is
missing, and that `ensure --ci` rebuilds a stale build and still fails.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "labextension_build.py"


def _load() -> Any:
    spec = importlib.util.spec_from_file_location("labextension_build", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


lb = _load()


@pytest.fixture
def extension(tmp_path: Path) -> Path:
    """A copy of labextension/ with its committed build, without node_modules."""
    copy = tmp_path / "labextension"
    shutil.copytree(ROOT / "labextension", copy,
                    ignore=shutil.ignore_patterns("node_modules", "lib", "*.tsbuildinfo"))
    return copy


def test_the_committed_build_matches_its_sources() -> None:
    current = lb.status(ROOT / "labextension")
    assert current.fresh, (f"{current.reason}: run `python3 scripts/labextension_build.py "
                           f"build` and commit labextension/build/")


def test_a_changed_source_makes_the_build_stale_and_undoing_it_fresh(extension: Path) -> None:
    source = extension / "src" / "index.ts"
    original = source.read_bytes()
    source.write_bytes(original + b"\n// changed\n")
    stale = lb.status(extension)
    assert not stale.fresh and "sources" in stale.reason and "changed" in stale.reason
    source.write_bytes(original)
    assert lb.status(extension).fresh


@pytest.mark.parametrize("change", ["new style file", "lock file", "tsconfig"])
def test_every_build_input_counts(extension: Path, change: str) -> None:
    target = {"new style file": extension / "style" / "extra.css",
              "lock file": extension / "package-lock.json",
              "tsconfig": extension / "tsconfig.json"}[change]
    with open(target, "a") as out:
        out.write("\n")
    assert not lb.status(extension).fresh


def test_files_outside_the_build_inputs_do_not_count(extension: Path) -> None:
    (extension / "test" / "new.test.ts").write_text("// a unit test is not built\n")
    (extension / "README.md").write_text("changed\n")
    assert lb.status(extension).fresh


def test_an_edited_or_missing_build_is_stale(extension: Path) -> None:
    output = extension / "build" / "labextension" / "package.json"
    output.write_text(output.read_text() + " ")
    edited = lb.status(extension)
    assert not edited.fresh and "differs from what build/stamp.json records" in edited.reason
    (extension / "build" / "stamp.json").unlink()
    assert "build/stamp.json cannot be read" in lb.status(extension).reason
    shutil.rmtree(extension / "build")
    assert "package.json is missing" in lb.status(extension).reason


def test_the_stamp_records_both_digests(extension: Path) -> None:
    stamp = json.loads((extension / "build" / "stamp.json").read_text())
    assert stamp["inputs"] == lb.inputs_digest(extension)
    assert stamp["output"] == lb.output_digest(extension)


def test_a_fresh_build_needs_no_npm(extension: Path, monkeypatch: pytest.MonkeyPatch,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    lb.build_hook("wheel", "standard", path=str(extension))
    assert "using it as committed" in capsys.readouterr().out


def test_a_stale_build_without_npm_says_what_is_missing(extension: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    (extension / "src" / "index.ts").write_text("// changed\n")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(SystemExit) as failure:
        lb.build_hook("wheel", "editable", path=str(extension))
    message = str(failure.value)
    assert "sources" in message and "Node.js 20+ and npm" in message


def test_check_exits_non_zero_on_a_stale_build(extension: Path) -> None:
    def check() -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(SCRIPT), "check", "--extension",
                               str(extension)], capture_output=True, text=True, timeout=60)

    assert check().returncode == 0
    (extension / "style" / "base.css").write_text("/* changed */\n")
    stale = check()
    assert stale.returncode == 1 and "changed since build/labextension/ was built" in stale.stdout


@pytest.mark.slow
def test_ensure_under_ci_rebuilds_a_stale_build_and_fails(extension: Path) -> None:
    npm = shutil.which("npm")
    modules = ROOT / "labextension" / "node_modules"
    if npm is None or not (modules / "@jupyter" / "builder").is_dir():
        pytest.skip("needs npm and labextension/node_modules (bootstrap dev installs both)")
    (extension / "node_modules").symlink_to(modules)
    style = extension / "style" / "base.css"
    style.write_text(style.read_text() + "\n.jp-flows-test-marker { color: red; }\n")
    before = lb.output_digest(extension)
    result = subprocess.run([sys.executable, str(SCRIPT), "ensure", "--ci", "--extension",
                             str(extension)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "the committed build was stale" in result.stderr
    # the build was made again from the changed sources and stamped
    assert lb.status(extension).fresh
    assert lb.output_digest(extension) != before
    built = "".join(path.read_text() for path in
                    (extension / "build" / "labextension" / "static").glob("*.js"))
    assert "jp-flows-test-marker" in built
