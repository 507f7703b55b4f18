"""What the routers share: the backend's settings, database and claim notifier."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from jupyter_flows.server.claims import ClaimNotifier
from jupyter_flows.server.db import Database
from jupyter_flows.server.settings import Settings


@dataclass
class Backend:
    settings: Settings
    db: Database
    notifier: ClaimNotifier


def get_backend(request: Request) -> Backend:
    backend: Backend = request.app.state.backend
    return backend


BackendDep = Annotated[Backend, Depends(get_backend)]
