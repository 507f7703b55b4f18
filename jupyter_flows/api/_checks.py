"""Field checks that need the config models (imported lazily: the client stays light)."""

from __future__ import annotations

from typing import Any


def check_run_config(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """A run config must parse (the message names the model, field and rule); a partial
    override without ``type`` is merged into the flow's config and checked there."""
    if value and "type" in value:
        from jupyter_flows.run_configs import run_config_from_config

        run_config_from_config(value)  # RunConfigError is a ValueError: a 422 naming it
    return value


def check_executor(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value and "type" in value:
        from jupyter_flows.errors import ExecutorError
        from jupyter_flows.executors.base import executor_from_config

        try:
            executor_from_config(value)
        except ExecutorError as exc:
            raise ValueError(str(exc)) from None
    return value
