"""Ready-made tasks, at the module paths Prefect 1.x users import them from
(``jupyter_flows.tasks.control_flow``, ``jupyter_flows.tasks.core.operators``)."""
