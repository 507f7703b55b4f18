"""A terminal progress display for ``flow.run()``: a bar of finished task runs and a count
per state, drawn with rich on stderr."""

from __future__ import annotations

import threading
from collections import Counter
from typing import TYPE_CHECKING, Any

from jupyter_flows.engine.observers import RunObserver

if TYPE_CHECKING:
    from jupyter_flows.core.flow import Flow
    from jupyter_flows.core.task import Task
    from jupyter_flows.engine.states import State


class RichProgress(RunObserver):
    """Shows how many task runs finished, and in which states, while a flow runs."""

    def __init__(self, console: Any = None) -> None:
        self.console = console
        self._lock = threading.Lock()
        self._states: dict[tuple[str, int | None], str] = {}
        self._finished: set[tuple[str, int | None]] = set()
        self._progress: Any = None
        self._bar: Any = None

    def run_started(self, flow: Flow, parameters: dict[str, Any], flow_run_id: str) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        console = self.console or Console(stderr=True)
        self._progress = Progress(
            TextColumn(f"[bold]{flow.name}[/bold]"), BarColumn(), MofNCompleteColumn(),
            TimeElapsedColumn(), TextColumn("{task.description}"), console=console,
            transient=False,
        )
        self._bar = self._progress.add_task("", total=len(flow.tasks))
        self._progress.start()

    def task_state_changed(self, task: Task, map_index: int | None, state: State) -> None:
        if self._progress is None:
            return
        key = (task.slug or task.name, map_index)
        with self._lock:
            self._states[key] = state.name
            if state.is_finished():
                self._finished.add(key)
            counts = Counter(self._states.values())
            total = max(len(self._states), self._progress.tasks[0].total or 0)
            self._progress.update(
                self._bar, completed=len(self._finished), total=total,
                description="  ".join(f"{name}: {n}" for name, n in sorted(counts.items())),
            )

    def run_finished(self, flow: Flow, state: State) -> None:
        if self._progress is not None:
            self._progress.update(self._bar, description=f"{state.name}: {state.message}")
            self._progress.stop()
