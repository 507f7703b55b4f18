"""HTTP handlers: ``GET /jupyter-flows/api/config`` and the proxy for everything else.

``/jupyter-flows/api/PATH?QUERY`` is forwarded as ``BACKEND/api/PATH?QUERY`` with the
configured API key as a bearer token; event streams go through
:mod:`~jupyter_flows.labserver.streaming` as they come. The backend's answer (status,
JSON body) comes back as it is; a backend that cannot be reached gives a 502 whose ``message`` reads
``backend at URL is not reachable: REASON``.
"""

from __future__ import annotations

import json
import re
from typing import Any

from jupyter_server.base.handlers import APIHandler
from tornado import web
from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest

from jupyter_flows.labserver.backend import Backend, Unreachable
from jupyter_flows.labserver.streaming import forward_stream, wants_stream

#: Backend paths the proxy forwards: plain segments, no ``..``.
_PATH = re.compile(r"^[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-.]+)*$")


class _Base(APIHandler):
    @property
    def backend(self) -> Backend:
        backend: Backend = self.settings["jupyter_flows_backend"]
        return backend

    def _json(self, status: int, body: Any) -> None:
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps(body))


class ConfigHandler(_Base):
    """The backend's URL and how it is run; never the API key."""

    @web.authenticated
    def get(self) -> None:
        self._json(200, self.backend.describe())


class ProxyHandler(_Base):
    """Forwards GET and POST to the backend's ``/api``, adding the API key."""

    @web.authenticated
    async def get(self, path: str) -> None:
        await self._forward("GET", path)

    @web.authenticated
    async def post(self, path: str) -> None:
        await self._forward("POST", path)

    async def _forward(self, method: str, path: str) -> None:
        if not _PATH.match(path):
            self._json(400, {"message": f"not a backend API path: {path!r}"})
            return
        backend = self.backend
        try:
            await backend.ready()
        except Unreachable as exc:
            self._json(502, {"message": str(exc), "backend_url": exc.url})
            return
        if method == "GET" and wants_stream(path, self.request.headers.get("Accept", "")):
            await forward_stream(self, backend.url, path, backend.api_key)
            return
        url = f"{backend.url}/api/{path}"
        if self.request.query:
            url += f"?{self.request.query}"
        headers = {"Accept": "application/json"}
        if method == "POST":
            headers["Content-Type"] = "application/json"
        if backend.api_key:
            headers["Authorization"] = f"Bearer {backend.api_key}"
        timeout: float = self.settings.get("jupyter_flows_request_timeout", 30.0)
        request = HTTPRequest(url, method=method, headers=headers,
                              body=self.request.body if method == "POST" else None,
                              request_timeout=timeout, connect_timeout=min(timeout, 10.0))
        try:
            response = await AsyncHTTPClient().fetch(request, raise_error=False)
        except HTTPClientError as exc:  # 599: timeouts and cut connections
            self._unreachable(backend.url, _reason(exc, timeout))
            return
        except OSError as exc:  # refused, unknown host, reset
            self._unreachable(backend.url, exc.strerror or str(exc))
            return
        self.set_status(response.code)
        if response.code == 204:
            self.finish()
            return
        self.set_header("Content-Type",
                        response.headers.get("Content-Type", "application/json"))
        self.finish(response.body or b"")

    def _unreachable(self, url: str, reason: str) -> None:
        exc = Unreachable(url, reason)
        self.log.warning("jupyter-flows: %s", exc)
        self._json(502, {"message": str(exc), "backend_url": url})


def _reason(exc: HTTPClientError, timeout: float) -> str:
    if "timeout" in str(exc).lower():
        return f"no answer within {timeout:.0f} s"
    return exc.message or str(exc)
