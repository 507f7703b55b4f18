"""scripts/uv_index_env.py: uv gets the index settings pip has (uv reads no pip.conf)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "uv_index_env.py"


def _load() -> Any:
    spec = importlib.util.spec_from_file_location("uv_index_env", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


ue = _load()


@pytest.mark.parametrize(("listing", "expected"), [
    ("global.index-url='https://mirror/simple'", {"UV_DEFAULT_INDEX": "https://mirror/simple"}),
    # several extra indexes: space-separated for pip and for uv; pip's choice among them
    ("global.extra-index-url='file:///a/simple file:///b/simple'",
     {"UV_INDEX": "file:///a/simple file:///b/simple", "UV_INDEX_STRATEGY": "unsafe-best-match"}),
    # find-links: uv separates several with commas
    (":env:.find-links='/opt/wheels /srv/wheels'",
     {"UV_FIND_LINKS": "/opt/wheels,/srv/wheels", "UV_INDEX_STRATEGY": "unsafe-best-match"}),
    ("global.cert='/etc/ca.crt'\nglobal.constraint='/etc/c.txt'\n:env:.default-timeout='180'",
     {"SSL_CERT_FILE": "/etc/ca.crt", "UV_CONSTRAINT": "/etc/c.txt", "UV_HTTP_TIMEOUT": "180"}),
    ("global.no-index='true'\nglobal.find-links='/w'",
     {"UV_NO_INDEX": "1", "UV_FIND_LINKS": "/w", "UV_INDEX_STRATEGY": "unsafe-best-match"}),
    # precedence as in pip: [global] < [install] < PIP_* variables
    ("global.index-url='https://g'\ninstall.index-url='https://i'",
     {"UV_DEFAULT_INDEX": "https://i"}),
    ("install.index-url='https://i'\n:env:.index-url='https://e'",
     {"UV_DEFAULT_INDEX": "https://e"}),
    # pip settings uv has no use for, other commands' sections and noise are left out
    ("global.disable-pip-version-check='1'\ndownload.index-url='https://d'\nnot a setting", {}),
    ("", {}),
])
def test_pip_settings_become_uv_variables(listing: str, expected: dict[str, str]) -> None:
    assert ue.uv_environment(ue.pip_settings(listing)) == expected


def test_it_asks_the_real_pip(tmp_path: Path) -> None:
    config = tmp_path / "pip.conf"
    config.write_text("[global]\nextra-index-url = file:///srv/pypi/simple\n"
                      "[install]\nfind-links = /srv/wheels\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update(PIP_CONFIG_FILE=str(config), PIP_INDEX_URL="https://mirror.example/simple")
    out = subprocess.run([sys.executable, str(SCRIPT)], env=env, capture_output=True,
                         text=True, timeout=60, check=True).stdout
    lines = set(out.splitlines())
    assert {"UV_DEFAULT_INDEX=https://mirror.example/simple",
            "UV_FIND_LINKS=/srv/wheels", "UV_INDEX_STRATEGY=unsafe-best-match"} <= lines
    assert any(line.startswith("UV_INDEX=") and "file:///srv/pypi/simple" in line
               for line in lines), lines
