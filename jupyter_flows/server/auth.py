"""Who may call the API, and what they may read back.

With an ``api_key`` configured, every ``/api`` request except ``/api/health`` needs
``Authorization: Bearer KEY``. Environment variables in stored run configs whose names
contain KEY, SECRET, TOKEN or PASSWORD are masked in responses; only a claim (made by
the agent that will launch the run) returns them in full.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import HTTPException, Request, status

from jupyter_flows.run_configs.masking import mask_config


def require_api_key(request: Request) -> None:
    expected: str | None = request.app.state.settings.api_key
    if not expected:
        return
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not secrets.compare_digest(given.strip().encode(),
                                                                 expected.encode()):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="this backend needs an API key: send 'Authorization: Bearer KEY' "
                   "(the client reads JUPYTER_FLOWS_API_KEY)",
            headers={"WWW-Authenticate": "Bearer"},
        )


def mask_run_config(run_config: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``run_config`` with secret-looking values masked, by the one rule the run
    configs define (``jupyter_flows.run_configs.masking``)."""
    return mask_config(run_config)
