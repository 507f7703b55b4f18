"""``with case(task, value):`` blocks (Prefect's ``prefect.tasks.control_flow.case``)."""

from jupyter_flows.core.control_flow import case

__all__ = ["case"]
