"""A backend and local agent on this machine, as child processes (for `up`, JupyterLab,
notebooks and tests)."""
