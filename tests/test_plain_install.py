"""``pip install jupyter-flows`` with no extras is enough to register, run and watch flows.

The package is installed (not editable) into a fresh venv with uv, the way the set-up
scripts install it; the backend runs from the test environment, everything else (the CLI,
a local agent, the flow-run processes it starts) from the plain install.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from jupyter_flows.local_backend import stop_processes
from jupyter_flows.server.testing import running_server

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow

FLOWS = textwrap.dedent('''
    from jupyter_flows import Flow, LocalRun, Parameter, task

    @task
    def double(x):
        print(f"doubling {x}")
        return 2 * x

    with Flow("plain", run_config=LocalRun(labels=["plain"])) as flow:
        double(Parameter("x", default=21))
''')


def _uv() -> tuple[str, dict[str, str]]:
    """The uv the set-up scripts use, and the index settings they give it."""
    script = "source scripts/setup_lib.sh >/dev/null && setup_uv >&2 && echo \"$UV\""
    uv = subprocess.run(["bash", "-c", script], cwd=ROOT, capture_output=True, text=True,
                        check=True).stdout.strip()
    lines = subprocess.run([sys.executable, "scripts/uv_index_env.py"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.splitlines()
    env = dict(line.split("=", 1) for line in lines if "=" in line)
    return uv, {**env, **{k: v for k, v in os.environ.items() if k.startswith("UV_")}}


@pytest.fixture(scope="module")
def plain_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("plain") / "venv"
    uv, uv_env = _uv()
    env = {**os.environ, **uv_env}
    subprocess.run([uv, "venv", "--quiet", "--python", sys.executable, str(venv)], env=env,
                   check=True)
    subprocess.run([uv, "pip", "install", "--quiet", "--python", str(venv / "bin/python"),
                    str(ROOT)], env=env, check=True, timeout=600)
    return venv


def run(venv: Path, *args: str, env: dict[str, str], timeout: float = 120
        ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(venv / "bin/jupyter-flows"), *args], env=env, text=True,
                          capture_output=True, timeout=timeout, check=False)


@pytest.fixture
def backend(tmp_path: Path) -> Iterator[str]:
    with running_server(tmp_path / "backend.db") as url:
        yield url


def test_the_plain_install_has_no_extras(plain_venv: Path) -> None:
    for module in ("fastapi", "sqlalchemy", "IPython", "ipywidgets"):
        found = subprocess.run([str(plain_venv / "bin/python"), "-c", f"import {module}"],
                               capture_output=True, check=False)
        assert found.returncode != 0, f"{module} came with a plain install"


def test_register_run_and_watch_with_no_extras(plain_venv: Path, backend: str,
                                               tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("JUPYTER_FLOWS_", "PYTHONPATH", "VIRTUAL_ENV"))}
    env.update(JUPYTER_FLOWS_BACKEND_URL=backend, HOME=str(tmp_path))
    helped = run(plain_venv, "--help", env=env)
    assert helped.returncode == 0 and "register" in helped.stdout, helped.stderr
    script = tmp_path / "flows.py"
    script.write_text(FLOWS)
    registered = run(plain_venv, "register", str(script), env=env)
    assert registered.returncode == 0, registered.stderr
    assert "flow 'plain' version 1 (new version)" in registered.stdout
    with open(tmp_path / "agent.log", "wb") as log:
        agent = subprocess.Popen([str(plain_venv / "bin/jupyter-flows"), "agent", "local",
                                  "start", "--label", "plain", "--poll-wait", "1"],
                                 env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        watched = run(plain_venv, "run", "plain", "--param", "x=4", "--watch", env=env)
    finally:
        stop_processes(agent)
    assert watched.returncode == 0, (watched.stdout, watched.stderr,
                                     (tmp_path / "agent.log").read_text())
    assert "doubling 4" in watched.stdout and "Success" in watched.stdout
