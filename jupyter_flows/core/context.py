"""The run context a task sees while it runs: ``get_run_context()`` and ``get_logger()``.

One ``ContextVar``, set by the task runner around the user's function and read through the
two accessors below; nothing else in the engine reads it. It lives in ``core`` (below the
engine) because ``Task.logger`` reads it too.
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
    loop_count: int = 1
    loop_result: Any = None
    resume: bool = False
    logger: logging.Logger | logging.LoggerAdapter[Any] = field(
        default_factory=lambda: logging.getLogger("jupyter_flows.task")
    )

    def shippable(self) -> dict[str, Any]:
        """The fields, without the logger, for a child process to rebuild the context."""
        return {name: getattr(self, name) for name in self.__dataclass_fields__
                if name != "logger"}


_current: ContextVar[RunContext | None] = ContextVar("jupyter_flows_run_context", default=None)


def get_run_context() -> RunContext | None:
    """The context of the task run in progress in this thread, or None outside a task."""
    return _current.get()


def get_logger() -> logging.Logger | logging.LoggerAdapter[Any]:
    """The current task's logger; outside a task, the ``jupyter_flows`` logger."""
    ctx = _current.get()
    return ctx.logger if ctx is not None else logging.getLogger("jupyter_flows")


_PREFECT_NAMES = {
    "task_loop_count": "loop_count", "task_loop_result": "loop_result",
    "task_run_count": "run_count", "task_full_name": "task_name",
}


class _PrefectContext:
    """``jupyter_flows.context``: the current task run's facts under Prefect's names
    (``context.get("task_loop_result")``, ``context.map_index``, ``context.logger``)."""

    def get(self, key: str, default: Any = None) -> Any:
        ctx = _current.get()
        if ctx is None:
            return default
        name = _PREFECT_NAMES.get(key, key)
        if name not in RunContext.__dataclass_fields__:
            return default
        value = getattr(ctx, name)
        if name == "loop_result" and ctx.loop_count == 1:
            return default  # no LOOP yet: Prefect's context has no such key
        return value

    def __getattr__(self, key: str) -> Any:
        sentinel = object()
        value = self.get(key, sentinel)
        if value is sentinel:
            raise AttributeError(f"the run context has no {key!r} (outside a task run?)")
        return value

    def __contains__(self, key: str) -> bool:
        sentinel = object()
        return self.get(key, sentinel) is not sentinel


context = _PrefectContext()


def set_run_context(ctx: RunContext | None) -> object:
    return _current.set(ctx)


def reset_run_context(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]
