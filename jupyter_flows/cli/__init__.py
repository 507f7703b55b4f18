"""The ``jupyter-flows`` command line: server, agents, registering and running flows."""

from __future__ import annotations

from jupyter_flows.cli import (  # noqa: F401 - they add the commands
    agents,
    flows,
    limits,
    notify,
    schedules,
    service,
)
from jupyter_flows.cli.apps import app
from jupyter_flows.cli.flows import watch_run

__all__ = ["app", "main", "watch_run"]


def main() -> None:
    app(prog_name="jupyter-flows")
