"""Sending one request to the backend: auth header, retries, and errors mapped to the tree.

Retries: a connection that could not be made (refused, connect timeout) is retried for
every call, since nothing reached the server. A request that may have reached it (read
timeout, dropped connection) and a 503 (database busy) are retried only for idempotent
calls. Backoff doubles from ``backoff`` seconds.
"""

from __future__ import annotations

import os
import time
from typing import Any

import httpx

from jupyter_flows.errors import (
    BackendAuthError,
    BackendError,
    BackendUnavailable,
    ConflictError,
)

DEFAULT_URL = "http://127.0.0.1:4200"
URL_ENV = "JUPYTER_FLOWS_BACKEND_URL"
API_KEY_ENV = "JUPYTER_FLOWS_API_KEY"

_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_MAYBE_SENT = (httpx.ReadTimeout, httpx.WriteTimeout, httpx.ReadError, httpx.WriteError,
               httpx.RemoteProtocolError)


class Transport:
    """An ``httpx.Client`` bound to one backend URL, with the retry policy above."""

    def __init__(self, url: str | None = None, api_key: str | None = None, *,
                 timeout: float = 30.0, retries: int = 3, backoff: float = 0.2,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.url = (url or os.environ.get(URL_ENV) or DEFAULT_URL).rstrip("/")
        key = api_key if api_key is not None else os.environ.get(API_KEY_ENV)
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self.retries = retries
        self.backoff = backoff
        self.http = httpx.Client(base_url=self.url, headers=headers, timeout=timeout,
                                 transport=transport)

    def close(self) -> None:
        self.http.close()

    def request(self, method: str, path: str, *, idempotent: bool,
                json: Any = None, params: Any = None, timeout: float | None = None
                ) -> httpx.Response:
        """The response (2xx); raises BackendUnavailable, ConflictError or BackendError."""
        extra: dict[str, Any] = {} if timeout is None else {"timeout": timeout}
        delay = self.backoff
        attempt = 0
        while True:
            attempt += 1
            last = attempt > self.retries
            try:
                response = self.http.request(method, path, json=json, params=params, **extra)
            except _NOT_SENT as exc:
                if last:
                    raise BackendUnavailable(self.url, _describe(exc)) from exc
            except _MAYBE_SENT as exc:
                if last or not idempotent:
                    raise BackendUnavailable(self.url, _describe(exc)) from exc
            else:
                if response.status_code == 503 and idempotent and not last:
                    pass  # the database was busy for too long; try again
                elif response.status_code >= 400:
                    raise response_error(response)
                else:
                    return response
            time.sleep(delay)
            delay *= 2


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
