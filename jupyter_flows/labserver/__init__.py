"""The jupyter_server extension behind the JupyterLab panel: ``/jupyter-flows/api/...``.

It proxies the panel's requests to the jupyter-flows backend, adding the API key on the way
so the browser never holds it. Which backend, in order:

1. ``c.JupyterFlows.backend_url`` (and ``c.JupyterFlows.api_key``) in the Jupyter config;
2. the ``JUPYTER_FLOWS_BACKEND_URL`` (and ``JUPYTER_FLOWS_API_KEY``) environment variables;
3. else an embedded backend: ``python -m jupyter_flows.server`` on a free loopback port
   with a SQLite file in the Jupyter data dir, plus a local agent; both start and stop with
   the Jupyter server.

The package installs ``etc/jupyter/jupyter_server_config.d/jupyter_flows.json``, which
enables this extension by default.
"""

from __future__ import annotations

from typing import Any

__all__ = ["_jupyter_server_extension_points"]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from jupyter_flows.labserver.app import JupyterFlows

    return [{"module": "jupyter_flows.labserver", "app": JupyterFlows}]
