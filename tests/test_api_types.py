"""The extension's TypeScript wire types are generated from the server's OpenAPI document;
the committed document must be the server's (the extension's tests check the TypeScript
against it)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("api_types", ROOT / "scripts" / "api_types.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_committed_openapi_document_is_the_servers() -> None:
    script = _script()
    committed = json.loads(script.DOCUMENT.read_text())
    current = script.openapi_document()
    # after changing a wire model: .venv/bin/python scripts/api_types.py, and commit both files
    assert committed == current, "labextension/openapi.json is stale: run scripts/api_types.py"


def test_the_check_says_what_to_run_when_the_document_is_stale(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    script = _script()
    assert script.main(["--check"]) == 0
    script.DOCUMENT = tmp_path / "openapi.json"
    script.DOCUMENT.write_text("{}")
    script.ROOT = tmp_path
    assert script.main(["--check"]) == 1
    assert "scripts/api_types.py" in capsys.readouterr().err
