"""Sending one request to the backend: auth header, retries, and errors mapped to the tree.

Retries (tenacity, capped exponential backoff with jitter): a connection that could not
be made (refused, connect timeout) is retried for every call, since nothing reached the
server. A request that may have reached it (read timeout, dropped connection) and a 503
(database busy) are retried only for idempotent calls.

How long to keep trying is the caller's choice: ``retries`` attempts after the first (a
person at a prompt wants to hear soon that the backend is down), or, with ``patience``,
for that many seconds whatever the count (a flow-run process or an agent rides out a
backend restart instead of giving up on the run).
"""

from __future__ import annotations

import logging
import os
from typing import Any

import httpx
import tenacity

from jupyter_flows.errors import (
    BackendAuthError,
    BackendError,
    BackendUnavailable,
    ConflictError,
)

DEFAULT_URL = "http://127.0.0.1:4200"
URL_ENV = "JUPYTER_FLOWS_BACKEND_URL"
API_KEY_ENV = "JUPYTER_FLOWS_API_KEY"
#: The longest pause between two attempts, whatever the backoff has grown to.
MAX_BACKOFF = 5.0

_log = logging.getLogger("jupyter_flows.client.transport")
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_MAYBE_SENT = (httpx.ReadTimeout, httpx.WriteTimeout, httpx.ReadError, httpx.WriteError,
               httpx.RemoteProtocolError)


class _TryAgain(Exception):
    """An attempt failed in a way worth repeating; ``error`` is what the caller gets if
    no attempt succeeds."""

    def __init__(self, error: BackendError | BackendUnavailable) -> None:
        super().__init__(str(error))
        self.error = error


class Transport:
    """An ``httpx.Client`` bound to one backend URL, with the retry policy above."""

    def __init__(self, url: str | None = None, api_key: str | None = None, *,
                 timeout: float = 30.0, retries: int = 3, backoff: float = 0.2,
                 patience: float | None = None, max_backoff: float = MAX_BACKOFF,
                 transport: httpx.BaseTransport | None = None) -> None:
        if patience is not None and patience < 0:
            raise ValueError(f"Transport.patience: expected seconds >= 0, got {patience}")
        self.url = (url or os.environ.get(URL_ENV) or DEFAULT_URL).rstrip("/")
        key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.retries = retries
        self.backoff = backoff
        self.patience = patience
        self.max_backoff = max_backoff
        self.http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout,
                                 transport=transport)

    def close(self) -> None:
        self.http.close()

    def _policy(self) -> tenacity.Retrying:
        stop: tenacity.stop.stop_base = (
            tenacity.stop_after_attempt(self.retries + 1) if self.patience is None
            else tenacity.stop_after_delay(self.patience))
        return tenacity.Retrying(
            retry=tenacity.retry_if_exception_type(_TryAgain), stop=stop,
            wait=(tenacity.wait_exponential(multiplier=self.backoff, max=self.max_backoff)
                  + tenacity.wait_random(0, self.backoff)),
            before_sleep=self._before_sleep, reraise=True)

    def _before_sleep(self, state: tenacity.RetryCallState) -> None:
        # only a patient caller says so out loud: it is waiting out an outage on purpose
        if self.patience is None or state.outcome is None or state.next_action is None:
            return
        _log.warning("%s (attempt %d, %.0f s so far); trying again in %.1f s",
                     state.outcome.exception(), state.attempt_number,
                     state.seconds_since_start or 0.0, state.next_action.sleep)

    def request(self, method: str, path: str, *, idempotent: bool,
                json: Any = None, params: Any = None, timeout: float | None = None
                ) -> httpx.Response:
        """The response (2xx); raises BackendUnavailable, ConflictError or BackendError."""
        extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}

        def attempt() -> httpx.Response:
            try:
                response = self.http.request(method, path, json=json, params=params, **extra)
            except _NOT_SENT as exc:
                raise _TryAgain(BackendUnavailable(self.url, _describe(exc))) from exc
            except _MAYBE_SENT as exc:
                error = BackendUnavailable(self.url, _describe(exc))
                if idempotent:
                    raise _TryAgain(error) from exc
                raise error from exc
            if response.status_code == 503 and idempotent:  # the database stayed busy
                raise _TryAgain(response_error(response))
            if response.status_code >= 400:
                raise response_error(response)
            return response

        try:
            return self._policy()(attempt)
        except _TryAgain as exc:
            raise exc.error from exc.__cause__


def _describe(exc: httpx.HTTPError) -> str:
    text = str(exc) or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text != type(exc).__name__ else text


def response_error(response: httpx.Response) -> BackendError:
    """The error of the tree that an error answer means (409: ConflictError)."""
    try:
        detail: Any = response.json().get("detail", response.text)
    except (ValueError, AttributeError):
        detail = response.text or response.reason_phrase
    request = response.request
    if response.status_code in (401, 403):
        return BackendAuthError(response.status_code, detail, request.method, str(request.url),
                                key_sent="authorization" in request.headers)
    cls = ConflictError if response.status_code == 409 else BackendError
    return cls(response.status_code, detail, request.method, str(request.url))
