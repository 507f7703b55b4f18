"""Helpers at Prefect 1.x's module paths: ``jupyter_flows.utilities.edges`` (unmapped,
flatten, mapped) and ``jupyter_flows.utilities.tasks`` (apply_map, pause_task, ...)."""
