"""Which backend the proxy talks to: one configured by URL, or the embedded one.

Both answer ``ready()`` (raising :class:`Unreachable` with a message for the panel when the
backend cannot be used) and ``describe()`` (what ``GET /jupyter-flows/api/config`` shows:
never the API key).
"""

from __future__ import annotations

from typing import Any, Protocol

from jupyter_flows.errors import LabBackendUnavailable

Unreachable = LabBackendUnavailable
"""The backend cannot be used; the message names its URL and why (``errors`` tree)."""


class Backend(Protocol):
    @property
    def url(self) -> str: ...

    @property
    def api_key(self) -> str | None: ...

    async def ready(self) -> None:
        """Return once requests may be sent; raise :class:`Unreachable` if they never can."""

    def describe(self) -> dict[str, Any]:
        """JSON for the panel: the URL and how the backend is run, without the key."""


class ExternalBackend:
    """A backend somebody else runs, named by ``c.JupyterFlows.backend_url`` or the env."""

    def __init__(self, url: str, api_key: str | None, source: str) -> None:
        self.url = url.rstrip("/")
        self.api_key = api_key
        self.source = source

    async def ready(self) -> None:
        return None

    def describe(self) -> dict[str, Any]:
        return {"backend_url": self.url, "embedded": False, "source": self.source,
                "api_key_configured": bool(self.api_key), "status": "external",
                "agent": None}
