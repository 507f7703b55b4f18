"""What the routers share: the backend's settings, database and event bus."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from jupyter_flows.server.db import Database
from jupyter_flows.server.events import EventBus
from jupyter_flows.server.settings import Settings


@dataclass
class Backend:
    settings: Settings
    db: Database
    events: EventBus


def get_backend(request: Request) -> Backend:
    backend: Backend = request.app.state.backend
    return backend


BackendDep = Annotated[Backend, Depends(get_backend)]
