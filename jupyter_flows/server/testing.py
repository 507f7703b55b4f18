"""Running a real backend for tests and benchmarks (here and in other packages' tests).

    with running_server(tmp_path / "backend.db", lease_timeout=2) as url:   # uvicorn process
        client = Client(url)

    async with in_process(Settings(database_url=...)) as http:              # ASGI, no sockets
        await http.post("/api/flows", json=...)

A client-side agent for such tests is ``jupyter_flows.client.testing.finishing_agent``
(the server and the client do not import each other).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx

from jupyter_flows.errors import BackendStartError
from jupyter_flows.local_backend.processes import stop_processes
from jupyter_flows.server.settings import ENV_VARS, Settings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def running_server(database: str | Path, *, port: int | None = None, startup_timeout: float = 30,
                   log_level: str = "warning", **settings: object) -> Iterator[str]:
    """A uvicorn backend on 127.0.0.1 in a subprocess; yields its URL, stops it on exit.

    ``database`` is a SQLite file path or a database URL; ``settings`` are
    :class:`~jupyter_flows.server.settings.Settings` fields (passed as environment).
    """
    url = str(database) if "://" in str(database) else f"sqlite:///{database}"
    port = port or free_port()
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS.values()}
    env.update({ENV_VARS[name]: str(value) for name, value in settings.items()
                if value is not None})
    env[ENV_VARS["database_url"]] = url
    command = [sys.executable, "-m", "jupyter_flows.server", "--host", "127.0.0.1",
               "--port", str(port), "--log-level", log_level]
    process = subprocess.Popen(command, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(process, base, startup_timeout)
        yield base
    finally:
        stop_processes(process, timeout=10)


def wait_until_up(process: subprocess.Popen[bytes], base: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise BackendStartError(base, f"it exited with code {process.returncode} on start")
        try:
            if httpx.get(f"{base}/api/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise BackendStartError(base, f"no answer within {timeout:.0f} s")


@asynccontextmanager
async def in_process(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The app with its lifespan (liveness sweeper) running, behind an ASGI httpx client."""
    from jupyter_flows.server.app import create_app

    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), \
            httpx.AsyncClient(transport=transport, base_url="http://backend") as http:
        yield http


class RecordingTransport(httpx.HTTPTransport):
    """An httpx transport that counts status codes, including any 5xx a client retried."""

    def __init__(self) -> None:
        super().__init__()
        self.statuses: Counter[int] = Counter()
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        with self._lock:
            self.statuses[response.status_code] += 1
        return response
