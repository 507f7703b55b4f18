"""The jupyter-flows backend: a FastAPI app over SQLite (default) or PostgreSQL.

    settings       Settings (from JUPYTER_FLOWS_* variables), timeouts and what they bound
    db             engine, sessions, retries while the database is busy
    models         tables
    schemas        wire payloads (shared with the client; imports only pydantic)
    orchestration  the state transition table, leases and the retry rule
    claims         exactly-once claims and the wake-up of waiting agents
    liveness       the sweeper that marks runs Crashed when their lease expires
    auth           the API key and masking of secrets
    routers/       one router per resource
    app            create_app(settings) and serve(settings)

Importing this package does not import FastAPI or SQLAlchemy; ``create_app`` and ``serve``
load them when called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__all__ = ["Settings", "create_app", "serve"]


def __getattr__(name: str) -> Any:
    if name == "Settings":
        from jupyter_flows.server.settings import Settings

        return Settings
    if name in {"create_app", "serve"}:
        from jupyter_flows.server import app

        return getattr(app, name)
    raise AttributeError(f"module 'jupyter_flows.server' has no attribute {name!r}")


if TYPE_CHECKING:
    from jupyter_flows.server.app import create_app, serve
    from jupyter_flows.server.settings import Settings
