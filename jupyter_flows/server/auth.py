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

MASK = "********"
SECRET_MARKERS = ("KEY", "SECRET", "TOKEN", "PASSWORD")


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


def is_secret_name(name: str) -> bool:
    upper = name.upper()
    return any(marker in upper for marker in SECRET_MARKERS)


def mask_run_config(run_config: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``run_config`` with secret-looking ``env`` values replaced by a mask.

    ``env`` is masked wherever it appears, as a mapping or as a Kubernetes-style list of
    ``{name, value}`` items."""
    def walk(value: Any, in_env: bool) -> Any:
        if isinstance(value, dict):
            name = value.get("name")
            if in_env and isinstance(name, str) and "value" in value and is_secret_name(name):
                return {**value, "value": MASK}
            return {k: (MASK if in_env and isinstance(k, str) and is_secret_name(k)
                        and not isinstance(v, dict | list) else walk(v, k == "env"))
                    for k, v in value.items()}
        if isinstance(value, list):
            return [walk(item, in_env) for item in value]
        return value

    result: dict[str, Any] = walk(run_config, False)
    return result
