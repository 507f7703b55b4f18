"""Observers watch a flow run without touching the runner: progress bars, widgets and the
backend reporter subscribe to three events, as dask's callbacks do for its scheduler."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jupyter_flows.core.flow import Flow
    from jupyter_flows.core.task import Task
    from jupyter_flows.engine.states import State

_log = logging.getLogger("jupyter_flows.engine")


class RunObserver:
    """Subclass and override what you need; events may arrive from worker threads."""

    def run_started(self, flow: Flow, parameters: dict[str, Any], flow_run_id: str) -> None:
        """The run is about to submit its first task."""

    def task_state_changed(self, task: Task, map_index: int | None, state: State) -> None:
        """A task run (``map_index`` None) or map child moved to ``state``."""

    def run_finished(self, flow: Flow, state: State) -> None:
        """The run ended in ``state``; ``state.result`` maps tasks to their final states."""


class ObserverHub:
    """Fans events out to observers, one at a time; an observer's error is logged, not raised.

    Remembers each task run's last state so the final states can be delivered to observers
    that missed them (events from remote workers may still be in flight at the end).
    """

    def __init__(self, flow: Flow, observers: Iterable[RunObserver]) -> None:
        self.observers = list(observers)
        self._tasks = {t.slug: t for t in flow.tasks}
        self._last: dict[tuple[str, int | None], str] = {}
        self._lock = threading.Lock()
        self._closed = False

    def _each(self, method: str, *args: Any) -> None:
        for observer in self.observers:
            try:
                getattr(observer, method)(*args)
            except Exception:
                _log.exception("observer %r failed in %s", observer, method)

    def run_started(self, flow: Flow, parameters: dict[str, Any], flow_run_id: str) -> None:
        self._each("run_started", flow, parameters, flow_run_id)

    def task_event(self, slug: str, map_index: int | None, state: State) -> None:
        task = self._tasks.get(slug)
        if task is None:
            return
        with self._lock:
            if self._closed:
                return
            self._last[(slug, map_index)] = state.name
            self._each("task_state_changed", task, map_index, state)

    def run_finished(self, flow: Flow, state: State) -> None:
        task_states: dict[Task, State] = state.result or {}
        with self._lock:
            for task, task_state in task_states.items():
                for index, child in enumerate(task_state.map_states or ()):
                    if self._last.get((task.slug or "", index)) != child.name:
                        self._each("task_state_changed", task, index, child)
                if self._last.get((task.slug or "", None)) != task_state.name:
                    self._each("task_state_changed", task, None, task_state)
            self._closed = True
            self._each("run_finished", flow, state)
