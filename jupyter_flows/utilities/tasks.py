"""Task helpers at Prefect 1.x's path (``prefect.utilities.tasks``): ``task``,
``apply_map``, ``pause_task`` and ``defaults_from_attrs``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from jupyter_flows.core.apply_map import apply_map
from jupyter_flows.core.context import context
from jupyter_flows.core.task import task
from jupyter_flows.signals import PAUSE

__all__ = ["apply_map", "defaults_from_attrs", "pause_task", "task"]


def pause_task(message: str | None = None, duration: timedelta | None = None) -> None:
    """Pause the running task for manual approval, unless this run was resumed.

    The whole task runs again when resumed (``flow.run(task_states=state.result,
    resume=[task])``), so code before the call runs twice. ``duration`` is accepted for
    Prefect code; runs here stay paused until resumed.
    """
    if not context.get("resume", False):
        raise PAUSE(message or "paused by the task: resume it to run it again")


def defaults_from_attrs(*names: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a Task subclass's ``run``: keyword arguments left out take the attribute of
    the same name, so ``MyTask(x=1)`` sets a default that a call can override."""

    def decorate(run: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(run)
        def method(self: Any, *args: Any, **kwargs: Any) -> Any:
            for name in names:
                kwargs.setdefault(name, getattr(self, name))
            return run(self, *args, **kwargs)

        return method

    return decorate
