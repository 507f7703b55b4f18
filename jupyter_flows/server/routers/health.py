"""``GET /api/health``: liveness of the server itself, without authentication."""

from __future__ import annotations

from fastapi import APIRouter

from jupyter_flows import __version__
from jupyter_flows.api import Health
from jupyter_flows.server.deps import BackendDep

router = APIRouter(tags=["health"])


@router.get("/health", response_model=Health)
def health(backend: BackendDep) -> Health:
    return Health(status="ok", version=__version__, database=backend.db.kind)
