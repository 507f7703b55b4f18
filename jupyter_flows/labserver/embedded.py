"""The embedded backend: a :class:`~jupyter_flows.local_backend.LocalBackend` living as long
as the Jupyter server, started without blocking its event loop.

Lifecycle::

    created (port chosen, URL known) --start()--> starting --/api/health ok--> ready
                                                     |                           |
                                                     +--exit/timeout--> failed   |
    stop() from any state: the agent is stopped first, then the server.

The children are launched on the event loop's thread (they die with the Jupyter server,
see ``die_with_parent``); only the waiting for the server's health happens off it.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from pathlib import Path
from typing import Any

from jupyter_flows.errors import BackendStartError
from jupyter_flows.labserver.backend import Unreachable
from jupyter_flows.local_backend import LocalBackend, healthy


class EmbeddedBackend:
    """The backend and local agent the proxy talks to when none is configured.

    Responsible for telling the proxy when the server answers (:meth:`ready`), what the
    panel shows about it (:meth:`describe`), and stopping both with Jupyter.
    """

    def __init__(self, database: str, *, api_key: str | None = None, start_agent: bool = True,
                 agent_name: str | None = None, agent_labels: list[str] | None = None,
                 run_log_dir: str | None = None, startup_timeout: float = 60.0,
                 log: logging.Logger | None = None) -> None:
        self.local = LocalBackend(
            database, api_key=api_key, agent=start_agent,
            agent_name=agent_name or f"jupyterlab-{socket.gethostname()}",
            agent_labels=agent_labels, run_log_dir=Path(run_log_dir) if run_log_dir else None,
            output=None)
        self.startup_timeout = startup_timeout
        self.log = log or logging.getLogger(__name__)
        self.status = "created"
        self.error: str | None = None
        self._boot: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        return self.local.url

    @property
    def api_key(self) -> str | None:
        return self.local.api_key

    @property
    def database(self) -> str:
        return self.local.database

    @property
    def port(self) -> int:
        return self.local.port

    @property
    def server(self) -> Any:
        return self.local.server

    @property
    def agent(self) -> Any:
        return self.local.agent_process

    def env(self) -> dict[str, str]:
        return self.local.env()

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
        if self.local.agent:
            process = self.local.agent_process
            agent = {"name": self.local.agent_name, "labels": self.local.agent_labels,
                     "running": process is not None and process.poll() is None}
        return {"backend_url": self.url, "embedded": True, "source": "embedded",
                "api_key_configured": bool(self.api_key), "status": self.status,
                "error": self.error, "database": self.database, "agent": agent}

    async def stop(self, timeout: float = 10.0) -> None:
        if self._boot is not None and not self._boot.done():
            self._boot.cancel()
        await asyncio.to_thread(self.local.stop, timeout)
        if self.status != "failed":
            self.status = "stopped"

    def stop_now(self) -> None:
        """Synchronous last resort (atexit): kill what is still running."""
        for process in self.local.children:
            if process.poll() is None:
                process.kill()

    def _check_alive(self) -> None:
        code = self.local.server_exit_code()
        if self.status == "ready" and code is not None:
            self.status = "failed"
            self.error = (f"the embedded backend exited with code {code} (see the Jupyter "
                          f"server log; restart Jupyter to start it again)")
            self.log.error("jupyter-flows: %s", self.error)

    async def _start(self) -> None:
        self.status = "starting"
        self.log.info("jupyter-flows: starting the embedded backend at %s (database %s)",
                      self.url, self.database)
        try:
            self.local.launch_server()
            await self._wait_healthy()
        except (BackendStartError, Unreachable) as exc:
            self.status = "failed"
            self.error = exc.reason
            self.log.error("jupyter-flows: the embedded backend did not start: %s", self.error)
            return
        self.status = "ready"
        self.log.info("jupyter-flows: the embedded backend answers at %s", self.url)
        if self.local.agent:
            try:
                self.local.launch_agent()
            except BackendStartError as exc:
                self.log.error("jupyter-flows: %s", exc)
                return
            self.log.info("jupyter-flows: local agent %r started (labels: %s)",
                          self.local.agent_name, ", ".join(self.local.agent_labels) or "none")

    async def _wait_healthy(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.startup_timeout
        while not await asyncio.to_thread(healthy, self.url, 2.0):
            problem = self.local.startup_problem()
            if problem:
                raise Unreachable(self.url, f"the embedded backend exited with code "
                                            f"{self.local.server_exit_code()} on start (see "
                                            f"the Jupyter server log)")
            if loop.time() > deadline:
                raise Unreachable(self.url, f"the embedded backend did not answer within "
                                            f"{self.startup_timeout:.0f} s")
            await asyncio.sleep(0.1)
