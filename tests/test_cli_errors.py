"""Clear one-line errors (issue 11, item 9): an agent or a CLI command started with no key,
a wrong key, or a backend URL nobody listens on prints one line saying what failed and
what to do, exits non-zero, and shows no traceback. Real processes, real uvicorn."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from jupyter_flows.server.testing import free_port, running_server

KEY = "the-right-key"


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("keyed") / "backend.db", api_key=KEY,
                        startup_timeout=120) as url:
        yield url


def run(args: list[str], url: str, key: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "JUPYTER_FLOWS_API_KEY"}
    env.update({"JUPYTER_FLOWS_BACKEND_URL": url, "JUPYTER_FLOWS_AGENT_CONNECT_TIMEOUT": "2"})
    if key is not None:
        env["JUPYTER_FLOWS_API_KEY"] = key
    return subprocess.run([sys.executable, "-m", "jupyter_flows", *args], env=env,
                          capture_output=True, text=True, timeout=180, check=False)


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


AGENT = ["agent", "local", "start", "--max-runs", "1"]


@pytest.mark.parametrize(("key", "says"), [(None, "needs an API key and none was sent"),
                                           ("wrong", "refused the API key")],
                         ids=["no-key", "wrong-key"])
@pytest.mark.parametrize("args", [AGENT, ["get", "flows"]], ids=["agent", "cli"])
def test_no_key_or_a_wrong_key_is_one_line(url: str, key: str | None, says: str,
                                           args: list[str]) -> None:
    line = one_line(run(args, url, key))
    assert "401" in line and says in line
    assert "set JUPYTER_FLOWS_API_KEY" in line


@pytest.mark.parametrize("args", [AGENT, ["get", "flows"]], ids=["agent", "cli"])
def test_a_refused_connection_is_one_line(args: list[str]) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    line = one_line(run(args, nobody, None))
    assert f"cannot reach the jupyter-flows backend at {nobody}" in line
    assert "jupyter-flows server start" in line


def test_the_right_key_still_works(url: str) -> None:
    result = run(["get", "flows"], url, KEY)
    assert result.returncode == 0, result.stderr
