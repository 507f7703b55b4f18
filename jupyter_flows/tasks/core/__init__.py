"""Core tasks: operators (``jupyter_flows.tasks.core.operators``), constants, collections."""
