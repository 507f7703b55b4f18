"""The run context a task sees while it runs: ``get_run_context()`` and ``get_logger()``.

One ``ContextVar``, set by the task runner around the user's function and read through the
two accessors below; nothing else in the engine reads it.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class RunContext:
    """Facts about the current task run (Prefect users know them as ``prefect.context``)."""

    flow_name: str
    flow_run_id: str
    task_name: str
    task_slug: str
    map_index: int | None = None
    task_run_name: str | None = None
    run_count: int = 1
    parameters: dict[str, Any] = field(default_factory=dict)
    logger: logging.Logger | logging.LoggerAdapter[Any] = field(
        default_factory=lambda: logging.getLogger("jupyter_flows.task")
    )


_current: ContextVar[RunContext | None] = ContextVar("jupyter_flows_run_context", default=None)


def get_run_context() -> RunContext | None:
    """The context of the task run in progress in this thread, or None outside a task."""
    return _current.get()


def get_logger() -> logging.Logger | logging.LoggerAdapter[Any]:
    """The current task's logger; outside a task, the ``jupyter_flows`` logger."""
    ctx = _current.get()
    return ctx.logger if ctx is not None else logging.getLogger("jupyter_flows")


def set_run_context(ctx: RunContext | None) -> object:
    return _current.set(ctx)


def reset_run_context(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]
