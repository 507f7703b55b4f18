"""Who may call the API, and what they may read back.

With an ``api_key`` configured, every ``/api`` request except ``/api/health`` needs
``Authorization: Bearer KEY``. Secrets are masked in responses by the rule of
:mod:`jupyter_flows.run_configs.masking` (names containing KEY, SECRET, TOKEN, PASSWORD,
PASS, CREDENTIAL, AUTH, WEBHOOK, DSN or the word PAT; passwords inside URLs): environment
variables and templates of run configs, keys of parameters, storage and executor configs,
and the defaults of secret-looking parameters in flow specs. Only a claim (made by the
agent that will launch the run) returns them in full.
"""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import HTTPException, Request, status

from jupyter_flows.api import FlowSpec
from jupyter_flows.run_configs.masking import MASK, looks_secret, mask_config, mask_keys


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


def mask_json(data: dict[str, Any]) -> dict[str, Any]:
    """Parameters, storage or an executor config with secret-looking keys masked."""
    masked: dict[str, Any] = mask_keys(data)
    return masked


def mask_spec(spec: FlowSpec) -> FlowSpec:
    """A copy of ``spec`` whose secret-looking parameters show no default."""
    if not any(t.is_parameter and looks_secret(t.name) for t in spec.tasks):
        return spec
    spec = spec.model_copy(deep=True)
    for task in spec.tasks:
        if task.is_parameter and task.parameter is not None and looks_secret(task.name):
            if task.parameter.default is not None:
                task.parameter.default = MASK
            if task.parameter.default_repr is not None:
                task.parameter.default_repr = MASK
    return spec
