"""What the browser tests share besides fixtures: the Lab handle, chromium's location and
flags, screenshots and notebook files."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM = Path(os.environ.get("JUPYTER_FLOWS_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run",
                 "--disable-quic", "--disable-dev-shm-usage"]
SCREENSHOTS = Path(__file__).parent / "screenshots"
#: Uncaught errors of the page, collected by the ``page`` fixture.
PAGE_ERRORS: list[str] = []


@dataclass
class Lab:
    url: str
    backend_url: str
    root: Path
    log: Path
    process: subprocess.Popen[bytes]

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def config(self) -> dict[str, Any]:
        data: dict[str, Any] = httpx.get(f"{self.url}/jupyter-flows/api/config", timeout=10).json()
        return data


REPO = Path(__file__).resolve().parents[2]
BUILT = REPO / "labextension" / "build" / "labextension"


def extension_dir() -> Path:
    """The JupyterLab extension the tests load: this checkout's build when there is one
    (``npm run build:prod`` in labextension/, or ``pip install -e .``), so they test this
    checkout's TypeScript; else the one installed in the environment."""
    if (BUILT / "package.json").exists():
        return BUILT
    return Path(sys.prefix, "share/jupyter/labextensions/jupyter-flows")


def labextensions_path(base: Path) -> Path:
    """A data folder whose ``labextensions/jupyter-flows`` is ``extension_dir()``; put first
    on ``JUPYTER_PATH``, it wins over the environment's copy."""
    target = base / "jupyter-path"
    (target / "labextensions").mkdir(parents=True, exist_ok=True)
    link = target / "labextensions" / "jupyter-flows"
    if not link.exists():
        link.symlink_to(extension_dir(), target_is_directory=True)
    return target


def require_browser() -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"no chromium at {CHROMIUM}: `apt-get install -y chromium` (bootstrap "
                    f"does as root), or set JUPYTER_FLOWS_CHROMIUM")
    pytest.importorskip("playwright.sync_api",
                        reason="playwright (Python) is missing: pip install -e '.[test]'")
    labextension = extension_dir() / "package.json"
    if not labextension.exists():
        pytest.skip(f"the JupyterLab extension is not installed ({labextension} is missing): "
                    f"pip install -e . builds and installs it")


def screenshot(page: Any, name: str) -> Path:
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def write_notebook(path: Path, cells: list[str]) -> None:
    notebook = {
        "cells": [{"cell_type": "code", "execution_count": None, "id": f"cell-{i}",
                   "metadata": {}, "outputs": [], "source": source}
                  for i, source in enumerate(cells)],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python",
                                    "name": "python3"}},
        "nbformat": 4, "nbformat_minor": 5,
    }
    path.write_text(json.dumps(notebook, indent=1))
