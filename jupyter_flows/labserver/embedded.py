"""The embedded backend: a backend server and a local agent living as long as Jupyter does.

Lifecycle::

    created (port chosen, URL known) --start()--> starting --/api/health ok--> ready
                                                     |                           |
                                                     +--exit/timeout--> failed   |
    stop() from any state: the agent is terminated first, then the server.

The agent is launched only once the server answers, since it registers on start. Both
children get ``PR_SET_PDEATHSIG`` on Linux, so a Jupyter server killed with SIGKILL does not
leave them behind.
"""

from __future__ import annotations

import asyncio
import ctypes
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tornado.httpclient import AsyncHTTPClient, HTTPClientError

from jupyter_flows.labserver.backend import Unreachable

_PR_SET_PDEATHSIG = 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` asking Linux to SIGTERM the child when this process dies."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl  # looked up here, not in the child
    except (OSError, AttributeError):
        return None

    def preexec() -> None:
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    return preexec


def database_url(database: str) -> str:
    """A database URL from a SQLite file path or a URL; the file's folder is created."""
    if "://" in database:
        return database
    path = Path(database).expanduser()
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


class EmbeddedBackend:
    """``python -m jupyter_flows.server`` on 127.0.0.1 and ``jupyter-flows agent local start``.

    Responsible for choosing the port, starting both processes, telling the proxy when the
    server answers (:meth:`ready`), and stopping both.
    """

    def __init__(self, database: str, *, api_key: str | None = None, start_agent: bool = True,
                 agent_name: str | None = None, agent_labels: list[str] | None = None,
                 run_log_dir: str | None = None, startup_timeout: float = 60.0,
                 log: logging.Logger | None = None) -> None:
        self.database = database_url(database)
        self.api_key = api_key
        self.start_agent = start_agent
        self.agent_name = agent_name or f"jupyterlab-{socket.gethostname()}"
        self.agent_labels = list(agent_labels or [])
        self.run_log_dir = run_log_dir
        self.startup_timeout = startup_timeout
        self.log = log or logging.getLogger(__name__)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.status = "created"
        self.error: str | None = None
        self.server: subprocess.Popen[bytes] | None = None
        self.agent: subprocess.Popen[bytes] | None = None
        self._boot: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ public
    def env(self) -> dict[str, str]:
        """What a client of this backend needs (the agent, and kernels via os.environ)."""
        env = {"JUPYTER_FLOWS_BACKEND_URL": self.url}
        if self.api_key:
            env["JUPYTER_FLOWS_API_KEY"] = self.api_key
        return env

    def start(self) -> None:
        """Launch the server now and the agent once the server answers (needs a running loop)."""
        if self._boot is None:
            self._boot = asyncio.ensure_future(self._start())

    async def ready(self) -> None:
        self.start()
        assert self._boot is not None
        await asyncio.shield(self._boot)
        self._check_alive()
        if self.status != "ready":
            raise Unreachable(self.url, self.error or f"the embedded backend is {self.status}")

    def describe(self) -> dict[str, Any]:
        self._check_alive()
        agent = None
        if self.start_agent:
            agent = {"name": self.agent_name, "labels": self.agent_labels,
                     "running": self.agent is not None and self.agent.poll() is None}
        return {"backend_url": self.url, "embedded": True, "source": "embedded",
                "api_key_configured": bool(self.api_key), "status": self.status,
                "error": self.error, "database": self.database, "agent": agent}

    async def stop(self, timeout: float = 10.0) -> None:
        """Terminate the agent, then the server; kill whichever outlives ``timeout``."""
        if self._boot is not None and not self._boot.done():
            self._boot.cancel()
        for name in ("agent", "server"):
            process: subprocess.Popen[bytes] | None = getattr(self, name)
            if process is not None and process.poll() is None:
                process.terminate()
                if not await _wait(process, timeout):
                    self.log.warning("jupyter-flows: the embedded %s did not stop in %.0f s; "
                                     "killing it", name, timeout)
                    process.kill()
                    await _wait(process, 5)
        if self.status != "failed":
            self.status = "stopped"

    def stop_now(self) -> None:
        """Synchronous last resort (atexit): kill what is still running."""
        for process in (self.agent, self.server):
            if process is not None and process.poll() is None:
                process.kill()

    # ----------------------------------------------------------------- private
    def _check_alive(self) -> None:
        if self.status == "ready" and self.server is not None and self.server.poll() is not None:
            self.status = "failed"
            self.error = (f"the embedded backend exited with code {self.server.returncode} "
                          f"(see the Jupyter server log; restart Jupyter to start it again)")
            self.log.error("jupyter-flows: %s", self.error)

    async def _start(self) -> None:
        self.status = "starting"
        child_env = {**os.environ, **self.env(), "JUPYTER_FLOWS_DATABASE_URL": self.database}
        if not self.api_key:
            child_env.pop("JUPYTER_FLOWS_API_KEY", None)
        command = [sys.executable, "-m", "jupyter_flows.server", "--host", "127.0.0.1",
                   "--port", str(self.port), "--log-level", "warning"]
        self.log.info("jupyter-flows: starting the embedded backend at %s (database %s)",
                      self.url, self.database)
        try:
            self.server = subprocess.Popen(command, env=child_env, stdin=subprocess.DEVNULL,
                                           preexec_fn=_die_with_parent())
            await self._wait_healthy(self.server)
        except (OSError, Unreachable) as exc:
            self.status = "failed"
            self.error = exc.reason if isinstance(exc, Unreachable) else str(exc)
            self.log.error("jupyter-flows: the embedded backend did not start: %s", self.error)
            return
        self.status = "ready"
        self.log.info("jupyter-flows: the embedded backend answers at %s", self.url)
        if self.start_agent:
            self._launch_agent(child_env)

    def _launch_agent(self, env: dict[str, str]) -> None:
        command = [sys.executable, "-m", "jupyter_flows", "agent", "local", "start",
                   "--name", self.agent_name, "--poll-wait", "2"]
        for label in self.agent_labels:
            command += ["--label", label]
        if self.run_log_dir:
            command += ["--log-dir", self.run_log_dir]
        try:
            self.agent = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL,
                                          preexec_fn=_die_with_parent())
        except OSError as exc:
            self.log.error("jupyter-flows: the local agent did not start: %s", exc)
            return
        self.log.info("jupyter-flows: local agent %r started (labels: %s)", self.agent_name,
                      ", ".join(self.agent_labels) or "none")

    async def _wait_healthy(self, process: subprocess.Popen[bytes]) -> None:
        http = AsyncHTTPClient()
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise Unreachable(self.url, f"the embedded backend exited with code "
                                            f"{process.returncode} on start (see the Jupyter "
                                            f"server log)")
            try:
                response = await http.fetch(f"{self.url}/api/health", request_timeout=2,
                                            raise_error=False)
                if response.code == 200:
                    return
            except (OSError, HTTPClientError):
                pass
            await asyncio.sleep(0.1)
        raise Unreachable(self.url, f"the embedded backend did not answer within "
                                    f"{self.startup_timeout:.0f} s")


async def _wait(process: subprocess.Popen[bytes], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while process.poll() is None:
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True
