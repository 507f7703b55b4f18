"""``jupyter-flows up``: the embedded backend, a local agent, and a demo run, in one command.

:class:`EmbeddedBackend` starts the backend (uvicorn on a SQLite file) and a local agent as
subprocesses of this process and stops them with it; notebooks use it too:

    backend = EmbeddedBackend().start()
    ...
    backend.stop()
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from jupyter_flows.errors import BackendStartError
from jupyter_flows.local_backend.processes import stop_processes


def _healthy(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/health", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class EmbeddedBackend:
    """A backend and a local agent on this machine, living as long as this object."""

    def __init__(self, port: int | None = None, database_url: str | None = None, *,
                 agent: bool = True, agent_labels: tuple[str, ...] = (),
                 quiet: bool = True, run_log_dir: Path | None = None) -> None:
        self.port = port or _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        if database_url is None:
            self._tmp = tempfile.mkdtemp(prefix="jupyter-flows-")
            database_url = f"sqlite:///{Path(self._tmp) / 'backend.db'}"
        self.database_url = database_url
        self.agent = agent
        self.agent_labels = agent_labels
        self.quiet = quiet
        self.run_log_dir = run_log_dir
        self.reused = False
        self.children: list[subprocess.Popen[bytes]] = []

    @property
    def env(self) -> dict[str, str]:
        """This process's environment pointed at the embedded backend."""
        return {**os.environ, "JUPYTER_FLOWS_BACKEND_URL": self.url}

    def start(self, timeout: float = 60) -> EmbeddedBackend:
        output = subprocess.DEVNULL if self.quiet else None
        if _healthy(self.url):
            self.reused = True
        else:
            server = subprocess.Popen(
                [sys.executable, "-m", "jupyter_flows.server", "--host", "127.0.0.1", "--port",
                 str(self.port), "--log-level", "warning", "--database-url", self.database_url],
                env=self.env, stdout=output, stderr=output)
            self.children.append(server)
            deadline = time.monotonic() + timeout
            while not _healthy(self.url):
                if server.poll() is not None:
                    raise BackendStartError(self.url, f"it exited with code {server.returncode}")
                if time.monotonic() > deadline:
                    raise BackendStartError(self.url, f"no answer within {timeout:.0f} s")
                time.sleep(0.1)
        if self.agent:
            command = [sys.executable, "-m", "jupyter_flows", "agent", "local", "start",
                       "--name", f"embedded-agent-{self.port}", "--poll-wait", "5"]
            for label in self.agent_labels:
                command += ["--label", label]
            if self.run_log_dir is not None:  # each run's own output, apart from the agent's
                command += ["--log-dir", str(self.run_log_dir)]
            self.children.append(subprocess.Popen(command, env=self.env, stdout=output,
                                                  stderr=output))
        os.environ["JUPYTER_FLOWS_BACKEND_URL"] = self.url  # clients made here find it
        return self

    def alive(self) -> bool:
        return all(child.poll() is None for child in self.children)

    def stop(self) -> None:
        stop_processes(*reversed(self.children))  # the agent (and lab) before the backend
        self.children.clear()

    def __enter__(self) -> EmbeddedBackend:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def __repr__(self) -> str:
        return f"EmbeddedBackend({self.url!r}, agent={self.agent})"


def run_demo(client: Any) -> int:
    """Register the demo flow, run it through the agent and print what happens."""
    from jupyter_flows.cli.demo import build_demo_flow
    from jupyter_flows.cli.flows import watch_run
    from jupyter_flows.executors.dask import DaskExecutor
    from jupyter_flows.run_configs import LocalRun

    flow = build_demo_flow()
    flow.run_config = LocalRun(labels=[])
    flow.executor = DaskExecutor(cluster_kwargs={"n_workers": 2, "threads_per_worker": 1})
    record = flow.register(project="demo", client=client)
    run = client.create_flow_run(record.id, parameters={"n": 12})
    print(f"flow {record.name!r} v{record.version}: run {run.id} created")
    code = watch_run(client, run.id)
    for task_run in client.get_task_runs(run.id):
        if task_run.map_index is None:
            print(f"  {task_run.task_slug:<16} {task_run.state:<10} {task_run.message or ''}")
    return code


def start_lab(backend: EmbeddedBackend, notebook_dir: Path, port: int = 8888
              ) -> subprocess.Popen[bytes]:
    """JupyterLab on ``notebook_dir``, its panel and kernels pointed at ``backend``."""
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip", "127.0.0.1",
               "--port", str(port), f"--ServerApp.root_dir={notebook_dir}"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # JupyterLab refuses to start as root otherwise
    lab = subprocess.Popen(command, env=backend.env)
    backend.children.append(lab)
    return lab


def _interrupt_on_sigterm() -> None:
    """Let SIGTERM stop `up` the way Ctrl-C does, so its children are stopped too."""
    import signal
    import threading

    def interrupt(*_: Any) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)


def run_up(port: int = 4200, database_url: str | None = None,
           exit_after_demo: bool = False, lab: bool = False,
           notebook_dir: Path | None = None, lab_port: int = 8888) -> int:
    from jupyter_flows.client.client import Client

    if database_url is None:
        home = Path.home() / ".jupyter-flows"
        home.mkdir(parents=True, exist_ok=True)
        database_url = f"sqlite:///{home / 'backend.db'}"
    backend = EmbeddedBackend(port, database_url, quiet=False,
                              run_log_dir=Path.home() / ".jupyter-flows" / "run-logs")
    _interrupt_on_sigterm()
    try:
        backend.start()
        print(f"backend: {backend.url} (API docs at {backend.url}/docs)"
              + (" (already running)" if backend.reused else ""))
        print("local agent: started")
        code = run_demo(Client(backend.url))
        if exit_after_demo:
            return code
        if lab:
            where = notebook_dir or Path.cwd()
            start_lab(backend, where, lab_port)
            print(f"\nJupyterLab on {where}: open the URL it prints below; its jupyter-flows"
                  " panel (left sidebar) shows this backend's flows and runs.")
        print("\nbackend and agent keep running; register flows with `jupyter-flows register`"
              " and run them with `jupyter-flows run NAME --watch`. Ctrl-C stops everything.")
        while backend.alive():
            time.sleep(0.5)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        backend.stop()
