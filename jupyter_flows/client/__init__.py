"""The HTTP client of the jupyter-flows backend (``Client``), built on httpx.

Errors it raises (from :mod:`jupyter_flows.errors`): ``BackendUnavailable`` when the
backend cannot be reached, ``ConflictError`` when it refuses a change (409), and
``BackendError`` for any other error answer.
"""

from __future__ import annotations

from jupyter_flows.client.client import Client
from jupyter_flows.errors import BackendError, BackendUnavailable, ConflictError

__all__ = ["BackendError", "BackendUnavailable", "Client", "ConflictError"]
