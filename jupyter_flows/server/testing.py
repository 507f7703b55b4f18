"""Running a real backend for tests and benchmarks (here and in other packages' tests).

    with running_server(tmp_path / "backend.db", lease_timeout=2) as url:   # uvicorn process
        client = Client(url)

    async with in_process(Settings(database_url=...)) as http:              # ASGI, no sockets
        await http.post("/api/flows", json=...)

A client-side agent for such tests is ``jupyter_flows.client.testing.finishing_agent``
(the server and the client do not import each other).
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path

import httpx

from jupyter_flows.local_backend import LocalBackend, free_port
from jupyter_flows.server.settings import Settings

__all__ = ["RecordingTransport", "free_port", "in_process", "running_server"]


@contextmanager
def running_server(database: str | Path, *, port: int | None = None, startup_timeout: float = 30,
                   log_level: str = "warning", **settings: object) -> Iterator[str]:
    """A uvicorn backend on 127.0.0.1 in a subprocess; yields its URL, stops it on exit.

    ``database`` is a SQLite file path or a database URL; ``settings`` are
    :class:`~jupyter_flows.server.settings.Settings` fields (passed as environment).
    """
    backend = LocalBackend(database, port=port, agent=False, settings=settings, output=None,
                           log_level=log_level).start(startup_timeout)
    try:
        yield backend.url
    finally:
        backend.stop(timeout=10)


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
