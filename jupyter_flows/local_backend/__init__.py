"""A backend and local agent on this machine, as child processes (for ``up``, JupyterLab,
notebooks and tests): see :class:`LocalBackend`."""

from __future__ import annotations

from jupyter_flows.local_backend.launcher import (
    LocalBackend,
    database_url,
    default_database_url,
    default_run_log_dir,
    free_port,
    healthy,
)
from jupyter_flows.local_backend.processes import die_with_parent, stop_processes

__all__ = ["LocalBackend", "database_url", "default_database_url", "default_run_log_dir",
           "die_with_parent", "free_port", "healthy", "stop_processes"]
