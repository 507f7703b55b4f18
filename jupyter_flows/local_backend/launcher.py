"""One way to run a backend (and a local agent) on this machine, as child processes.

``jupyter-flows up``, the JupyterLab server extension, notebooks and the tests all use
:class:`LocalBackend`, so they share one command line for each child, one database default
(:func:`default_database_url`: the server's own, ``~/.jupyter-flows/backend.db``; a
``LocalBackend()`` without a database uses a temporary one),
one health check and one way to stop (:func:`stop_processes`). The children die with their
parent on Linux (``PR_SET_PDEATHSIG``), so a parent killed with SIGKILL leaves nothing behind.

    with LocalBackend(database_url) as backend:     # the server, then the agent
        Client(backend.url)...

Settings of the server (:class:`~jupyter_flows.server.settings.Settings` fields such as
``lease_timeout``) go to it as ``JUPYTER_FLOWS_*`` environment variables.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import IO, Any

import httpx

from jupyter_flows.api.server_env import DEFAULT_DATABASE_URL, ENV_VARS
from jupyter_flows.errors import BackendStartError, JupyterFlowsError
from jupyter_flows.local_backend.processes import die_with_parent, stop_processes

URL_ENV = "JUPYTER_FLOWS_BACKEND_URL"
KEY_ENV = "JUPYTER_FLOWS_API_KEY"
DATABASE_ENV = "JUPYTER_FLOWS_DATABASE_URL"


def default_database_url() -> str:
    """The database of ``up``, JupyterLab and ``server start`` unless told otherwise."""
    return database_url(DEFAULT_DATABASE_URL.removeprefix("sqlite:///"))


def default_run_log_dir() -> Path:
    """Where the local agent of ``up`` and JupyterLab writes each run's own output."""
    return Path.home() / ".jupyter-flows" / "run-logs"


def database_url(database: str | Path) -> str:
    """A database URL from a SQLite file path or a URL; the file's folder is created."""
    text = str(database)
    if "://" in text:
        return text
    path = Path(text).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def healthy(url: str, timeout: float = 1.0) -> bool:
    """Whether a jupyter-flows backend answers at ``url``."""
    try:
        return httpx.get(f"{url}/api/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def server_command(port: int, log_level: str = "warning") -> list[str]:
    return [sys.executable, "-m", "jupyter_flows.server", "--host", "127.0.0.1",
            "--port", str(port), "--log-level", log_level]


def agent_command(name: str, labels: list[str], run_log_dir: Path | None,
                  poll_wait: float = 2.0) -> list[str]:
    # warm starts: each run forked from a pre-imported forkserver, Running in ~0.15 s
    # instead of ~0.6 s (see jupyter_flows.agents.warm)
    command = [sys.executable, "-m", "jupyter_flows", "agent", "local", "start",
               "--name", name, "--poll-wait", f"{poll_wait:g}", "--warm-start"]
    for label in labels:
        command += ["--label", label]
    if run_log_dir is not None:  # each run's own output, apart from the agent's
        command += ["--log-dir", str(run_log_dir)]
    return command


class LocalBackend:
    """A backend server and, optionally, a local agent, living as long as this object.

    Responsible for: choosing the port, the children's command lines and environment,
    starting the server and waiting until it answers, then the agent; reusing a backend
    that already answers on the port; stopping both (the agent first).
    """

    def __init__(self, database: str | Path | None = None, *, port: int | None = None,
                 api_key: str | None = None, agent: bool = True,
                 agent_name: str | None = None, agent_labels: list[str] | None = None,
                 run_log_dir: Path | None = None, settings: Mapping[str, object] | None = None,
                 output: IO[Any] | int | None = subprocess.DEVNULL,
                 log_level: str = "warning", reuse: bool = False) -> None:
        if database is None:
            self._tmp = tempfile.mkdtemp(prefix="jupyter-flows-")
            database = Path(self._tmp) / "backend.db"
        self.database = database_url(database)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.api_key = api_key
        self.agent = agent
        self.agent_name = agent_name or f"local-agent-{socket.gethostname()}-{self.port}"
        self.agent_labels = list(agent_labels or [])
        self.run_log_dir = run_log_dir
        self.output = output
        self.log_level = log_level
        self.reuse = reuse
        self.reused = False
        unknown = set(settings or {}) - set(ENV_VARS)
        if unknown:
            raise JupyterFlowsError(f"unknown server settings: {', '.join(sorted(unknown))}")
        self.server_env = {ENV_VARS[k]: str(v) for k, v in (settings or {}).items()
                           if v is not None}
        self.server: subprocess.Popen[bytes] | None = None
        self.agent_process: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        """What a client of this backend needs (agents, kernels, CLIs started from here)."""
        env = {URL_ENV: self.url}
        if self.api_key:
            env[KEY_ENV] = self.api_key
        return env

    def child_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in ENV_VARS.values()}
        env.pop(KEY_ENV, None)
        env.update(self.env())
        env.update(self.server_env)
        env[DATABASE_ENV] = self.database
        return env

    @property
    def children(self) -> list[subprocess.Popen[bytes]]:
        return [p for p in (self.agent_process, self.server) if p is not None]

    def start(self, timeout: float = 60.0) -> LocalBackend:
        """Start the server, wait until it answers, then start the agent."""
        if self.reuse and healthy(self.url):
            self.reused = True
        else:
            self.launch_server()
            self.wait_until_healthy(timeout)
        if self.agent:
            self.launch_agent()
        return self

    # The launches stay on the caller's thread: PR_SET_PDEATHSIG fires when the thread that
    # started a child ends, so a child started from a worker thread could die with it.
    def launch_server(self) -> subprocess.Popen[bytes]:
        try:
            self.server = subprocess.Popen(server_command(self.port, self.log_level),
                                           env=self.child_env(), stdin=subprocess.DEVNULL,
                                           stdout=self.output, stderr=self.output,
                                           preexec_fn=die_with_parent())
        except OSError as exc:
            raise BackendStartError(self.url, f"it could not be launched: {exc}") from exc
        return self.server

    def launch_agent(self) -> subprocess.Popen[bytes]:
        try:
            self.agent_process = subprocess.Popen(
                agent_command(self.agent_name, self.agent_labels, self.run_log_dir),
                env=self.child_env(), stdin=subprocess.DEVNULL, stdout=self.output,
                stderr=self.output, preexec_fn=die_with_parent())
        except OSError as exc:
            raise BackendStartError(self.url, f"its local agent could not be launched: {exc}"
                                    ) from exc
        return self.agent_process

    def startup_problem(self) -> str | None:
        """Why the server cannot answer any more (it exited), or None."""
        if self.server is not None and self.server.poll() is not None:
            return f"it exited with code {self.server.returncode} on start"
        return None

    def wait_until_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not healthy(self.url):
            problem = self.startup_problem()
            if problem:
                raise BackendStartError(self.url, problem)
            if time.monotonic() > deadline:
                self.stop()
                raise BackendStartError(self.url, f"no answer within {timeout:.0f} s")
            time.sleep(0.05)

    def alive(self) -> bool:
        return all(child.poll() is None for child in self.children)

    def server_exit_code(self) -> int | None:
        return None if self.server is None else self.server.poll()

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the agent, then the server (SIGTERM, SIGKILL after ``timeout``)."""
        stop_processes(self.agent_process, timeout=timeout)
        stop_processes(self.server, timeout=timeout)
        self.agent_process = self.server = None

    def __enter__(self) -> LocalBackend:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"LocalBackend({self.url!r}, agent={self.agent})"
