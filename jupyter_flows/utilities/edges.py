"""Edge annotations at Prefect 1.x's path (``prefect.utilities.edges``)."""

from jupyter_flows.core.edges import Edge, flatten, mapped, unmapped

__all__ = ["Edge", "flatten", "mapped", "unmapped"]
