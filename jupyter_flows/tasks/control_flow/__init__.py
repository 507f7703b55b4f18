"""Control flow tasks at Prefect 1.x's path: ``from jupyter_flows.tasks.control_flow import
switch, ifelse, merge, case, FilterTask``."""

from jupyter_flows.tasks.control_flow.case import case
from jupyter_flows.tasks.control_flow.conditional import ifelse, merge, switch
from jupyter_flows.tasks.control_flow.filter import FilterTask

__all__ = ["FilterTask", "case", "ifelse", "merge", "switch"]
