"""``JupyterFlows``: the extension app; its traits are the ``c.JupyterFlows.*`` settings."""

from __future__ import annotations

import atexit
import os
from typing import Any

from jupyter_server.extension.application import ExtensionApp
from traitlets import Bool, Float, List, Unicode, default

from jupyter_flows.labserver.backend import Backend, ExternalBackend
from jupyter_flows.labserver.embedded import EmbeddedBackend
from jupyter_flows.labserver.handlers import ConfigHandler, ProxyHandler
from jupyter_flows.local_backend import default_database_url, default_run_log_dir

URL_ENV = "JUPYTER_FLOWS_BACKEND_URL"
KEY_ENV = "JUPYTER_FLOWS_API_KEY"


class JupyterFlows(ExtensionApp):
    """Serves ``/jupyter-flows/api/...`` and owns the embedded backend when there is one."""

    name = "jupyter_flows"
    load_other_extensions = True

    backend_url = Unicode(
        None, allow_none=True,
        help=f"URL of the jupyter-flows backend (default: ${URL_ENV}; when neither is set, "
             f"an embedded backend and local agent are started with the Jupyter server).",
    ).tag(config=True)
    api_key = Unicode(
        None, allow_none=True,
        help=f"API key sent to the backend as a bearer token (default: ${KEY_ENV}). It stays "
             f"on the server: the browser never sees it. An embedded backend requires it too.",
    ).tag(config=True)
    embedded_database = Unicode(
        help="SQLite file (or database URL) of the embedded backend.",
    ).tag(config=True)
    start_agent = Bool(
        True, help="Start a local agent alongside the embedded backend.",
    ).tag(config=True)
    agent_labels = List(
        Unicode(), help="Labels of the embedded local agent (runs with other labels wait).",
    ).tag(config=True)
    request_timeout = Float(
        30.0, help="Seconds a proxied request may take before the panel is told the backend "
                   "did not answer.",
    ).tag(config=True)
    startup_timeout = Float(
        60.0, help="Seconds the embedded backend may take to answer after starting.",
    ).tag(config=True)

    @default("backend_url")
    def _default_backend_url(self) -> str | None:
        return os.environ.get(URL_ENV) or None

    @default("api_key")
    def _default_api_key(self) -> str | None:
        return os.environ.get(KEY_ENV) or None

    @default("embedded_database")
    def _default_embedded_database(self) -> str:
        # the same database as `jupyter-flows up` and `server start`
        return default_database_url()

    # --------------------------------------------------------------- lifecycle
    def initialize_settings(self) -> None:
        backend: Backend
        if self.backend_url:
            source = "config" if self.backend_url != os.environ.get(URL_ENV) else URL_ENV
            backend = ExternalBackend(self.backend_url, self.api_key, source)
            self.log.info("jupyter-flows: proxying to the backend at %s", backend.url)
        else:
            embedded = EmbeddedBackend(self.embedded_database, api_key=self.api_key,
                                       start_agent=self.start_agent,
                                       agent_labels=list(self.agent_labels),
                                       run_log_dir=str(default_run_log_dir()),
                                       startup_timeout=self.startup_timeout, log=self.log)
            atexit.register(embedded.stop_now)
            backend = embedded
        # kernels started by this server reach the same backend (``%flow submit``)
        os.environ[URL_ENV] = backend.url
        if backend.api_key:
            os.environ[KEY_ENV] = backend.api_key
        self.backend = backend
        self.settings.update(jupyter_flows_backend=backend,
                             jupyter_flows_request_timeout=self.request_timeout)

    def initialize_handlers(self) -> None:
        self.handlers.extend([
            (r"/jupyter-flows/api/config", ConfigHandler),
            (r"/jupyter-flows/api/(.*)", ProxyHandler),
        ])

    async def _start_jupyter_server_extension(self, serverapp: Any) -> None:
        if isinstance(self.backend, EmbeddedBackend):
            self.backend.start()

    async def stop_extension(self) -> None:
        backend = getattr(self, "backend", None)
        if isinstance(backend, EmbeddedBackend):
            await backend.stop()
