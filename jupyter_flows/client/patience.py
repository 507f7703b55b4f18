"""Waiting out a backend outage: how long, and calling the backend until it answers.

A flow-run process and an agent must not give up on a run because the backend was
restarted under them: they keep calling, with capped exponential backoff and jitter
(tenacity), for ``patience`` seconds. The default matches the server's default
``start_timeout``: by then a claim that could not start has been handed back anyway, so
waiting longer buys nothing.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from typing import TypeVar

import tenacity

from jupyter_flows.client.transport import MAX_BACKOFF
from jupyter_flows.errors import BackendUnavailable, ConfigError

T = TypeVar("T")
PATIENCE_ENV = "JUPYTER_FLOWS_BACKEND_PATIENCE"
DEFAULT_PATIENCE = 300.0

_log = logging.getLogger("jupyter_flows.client.patience")


def backend_patience(environ: Mapping[str, str] | None = None) -> float:
    """Seconds to keep trying an unreachable backend (``JUPYTER_FLOWS_BACKEND_PATIENCE``)."""
    text = (os.environ if environ is None else environ).get(PATIENCE_ENV)
    if not text:
        return DEFAULT_PATIENCE
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if value < 0:
        raise ConfigError(f"{PATIENCE_ENV}: expected seconds >= 0, got {text!r}")
    return value


def call_patiently(call: Callable[[], T], *, patience: float, what: str) -> T:
    """``call()``, repeated while it raises ``BackendUnavailable``, for ``patience``
    seconds; then that error is raised."""
    def say(state: tenacity.RetryCallState) -> None:
        _log.warning("%s: backend unavailable (%s); trying again", what,
                     state.outcome.exception() if state.outcome else "?")

    retrying = tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(BackendUnavailable),
        stop=tenacity.stop_after_delay(patience),
        wait=(tenacity.wait_exponential(multiplier=0.5, max=MAX_BACKOFF)
              + tenacity.wait_random(0, 0.5)),
        before_sleep=say, reraise=True)
    return retrying(call)
