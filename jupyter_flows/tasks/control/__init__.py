"""The control flow tasks under a shorter path (``jupyter_flows.tasks.control``); the same
objects as ``jupyter_flows.tasks.control_flow``, which mirrors Prefect's."""

from jupyter_flows.tasks.control_flow import FilterTask, case, ifelse, merge, switch

__all__ = ["FilterTask", "case", "ifelse", "merge", "switch"]
