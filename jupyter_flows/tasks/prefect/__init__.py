"""Tasks that run other flows, at Prefect 1.x's path (``prefect.tasks.prefect``):
``create_flow_run``, ``wait_for_flow_run`` and ``get_task_run_result``."""

from __future__ import annotations

from jupyter_flows.tasks.prefect.flow_run import (
    create_flow_run,
    get_task_run_result,
    wait_for_flow_run,
)

__all__ = ["create_flow_run", "get_task_run_result", "wait_for_flow_run"]
