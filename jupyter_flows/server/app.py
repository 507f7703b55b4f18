"""The app factory and ``serve``.

``create_app(settings)`` builds the FastAPI app: database schema, routers under ``/api``
(all behind the optional API key except ``/api/health``), OpenAPI at ``/docs`` with Swagger
UI's JavaScript and CSS served by this app (fastapi-offline ships them, so the page works with
no network), and a lifespan that runs the liveness sweeper and the scheduler.
``serve(settings)`` runs it with uvicorn.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from types import FrameType

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline

from jupyter_flows import __version__
from jupyter_flows.errors import ServerConfigError
from jupyter_flows.server import limits
from jupyter_flows.server.auth import require_api_key
from jupyter_flows.server.db import Database, DatabaseBusy
from jupyter_flows.server.deps import Backend
from jupyter_flows.server.events import EventBus
from jupyter_flows.server.liveness import extend_at_start, sweep_forever
from jupyter_flows.server.pg_listen import Listener
from jupyter_flows.server.routers import (
    agents,
    events,
    flow_removal,
    flow_runs,
    flows,
    health,
    logs,
    states,
    task_runs,
    task_slots,
)
from jupyter_flows.server.routers import limits as concurrency_limits
from jupyter_flows.server.scheduler import Scheduler
from jupyter_flows.server.settings import Settings

_log = logging.getLogger("jupyter_flows.server")

#: Where the API docs' Swagger UI and ReDoc assets are served.
DOCS_ASSETS = "/docs-assets"
#: Seconds uvicorn lets requests (waiting claims) finish after SIGTERM / Ctrl+C.
SHUTDOWN_GRACE = 2


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings.from_env()
    bus = EventBus()
    db = Database(settings, on_commit=bus.committed)
    db.upgrade_schema()
    backend = Backend(settings=settings, db=db, events=bus)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        bus.bind(asyncio.get_running_loop())
        # other server processes on the same PostgreSQL wake this one's waiters too
        listener = Listener(db.url, bus.committed).start() if db.kind == "postgresql" else None
        # before the first request: a flow-run process that waited out this server's
        # absence must find its lease valid
        await asyncio.to_thread(extend_at_start, db, settings.lease_timeout)
        sweeper = asyncio.create_task(sweep_forever(db, settings.lease_timeout,
                                                    settings.sweep_interval,
                                                    settings.start_timeout))
        scheduler = asyncio.create_task(Scheduler(db, settings).run_forever(
            settings.scheduler_interval))
        try:
            yield
        finally:
            bus.close()
            for task in (sweeper, scheduler):
                task.cancel()
                with suppress(asyncio.CancelledError):
                    await task
            if listener is not None:
                await asyncio.to_thread(listener.stop)
            db.dispose()

    app = FastAPIOffline(title="jupyter-flows backend", version=__version__, lifespan=lifespan,
                         static_url=DOCS_ASSETS,
                         # ReDoc's bundle always fetches a logo from its CDN: /docs only
                         redoc_url=None,
                         # no validity badge: Swagger UI fetches it from validator.swagger.io
                         swagger_ui_parameters={"validatorUrl": None},
                         description="Flows, flow runs, their states, task runs and logs, and "
                                     "the agents that claim and launch runs.")
    app.state.settings = settings
    app.state.backend = backend

    @app.exception_handler(DatabaseBusy)
    async def _busy(request: Request, exc: DatabaseBusy) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=503, headers={"Retry-After": "1"})

    limits.install(app, settings.max_body_bytes, settings.max_json_depth)

    api = APIRouter(prefix="/api", dependencies=[Depends(require_api_key)])
    for module in (flows, flow_removal, flow_runs, states, task_runs, task_slots, logs,
                   agents, events, concurrency_limits):
        api.include_router(module.router)
    app.include_router(health.router, prefix="/api")
    app.include_router(api)
    return app


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(settings: Settings) -> None:
    """Refuse to listen beyond this machine without an API key."""
    if not settings.api_key and not is_loopback(settings.host):
        raise ServerConfigError(
            f"refusing to listen on {settings.host}:{settings.port} without an API key: anyone "
            f"who can reach that address could run code through your agents. Set an API key "
            f"(JUPYTER_FLOWS_API_KEY or --api-key) or listen on 127.0.0.1")


def serve(settings: Settings | None = None) -> None:
    """Run the backend with uvicorn until interrupted."""
    import uvicorn

    settings = settings or Settings.from_env()
    check_bind(settings)
    app = create_app(settings)
    bus: EventBus = app.state.backend.events

    class Server(uvicorn.Server):
        # Waiting claims and event streams would hold a graceful shutdown for up to
        # claim_max_wait: on SIGINT/SIGTERM they are woken to end at once.
        def handle_exit(self, sig: int, frame: FrameType | None) -> None:
            bus.close()
            super().handle_exit(sig, frame)

    config = uvicorn.Config(app, host=settings.host, port=settings.port,
                            log_level=settings.log_level,
                            timeout_graceful_shutdown=SHUTDOWN_GRACE)
    Server(config).run()
