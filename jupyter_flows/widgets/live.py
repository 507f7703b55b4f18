"""Live pictures of flow runs: the DAG coloured by task states, a count per state, the
elapsed time and the errors, updated in place as the run goes.

``LiveRunView`` is a :class:`~jupyter_flows.engine.observers.RunObserver` for runs in this
process (``flow.run(observers=[view])``); ``watch_backend_run`` drives the same view from
a backend run's task-run states, polling with backoff until the run finishes.

Rendering: events may come from worker threads (and a Dask client's thread). Each one
updates the state table under a lock; the thread that brings it renders at once if no
render is under way and the last one is at least ``throttle`` seconds old; otherwise a
timer renders when that time is up. So the picture is redrawn at most every ``throttle``
seconds and is never much further behind, even when events stop coming for a while.
``run_finished`` always renders the final picture. Renders never overlap (one render
lock); ``throttle=0`` renders every event, in the thread that reports it.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jupyter_flows.api.flow_spec import flow_from_spec
from jupyter_flows.engine.observers import RunObserver
from jupyter_flows.widgets.run_picture import run_bundle

if TYPE_CHECKING:
    from jupyter_flows.client.client import Client
    from jupyter_flows.core.flow import Flow
    from jupyter_flows.core.task import Task
    from jupyter_flows.engine.states import State
    from jupyter_flows.widgets.dag import DagView

__all__ = ["LiveRunView", "Snapshot", "watch_backend_run"]

@dataclass(frozen=True)
class Snapshot:
    """What one render showed."""

    states: dict[str, str]
    """Task slug -> state name, for the tasks that have a state (a mapped task: its own)."""
    children: dict[str, dict[str, int]]
    """Mapped task slug -> state name -> how many of its children are in that state."""
    counts: dict[str, int]
    """State name -> task runs (tasks and map children) in it; tasks without one: Pending."""
    errors: list[tuple[str, str]] = field(default_factory=list)
    """(``slug`` or ``slug[index]``, message) of each failed task run, in flow order."""
    elapsed: float | None = None
    status: str = ""
    """The flow run's state name (``Running`` during a local run)."""
    final: bool = False
    at: float = 0.0
    """``time.monotonic()`` when it was rendered."""


class LiveRunView(RunObserver):
    """A flow run's DAG, counts, elapsed time and errors, redrawn in place while it runs.

        view = LiveRunView(flow).display()
        flow.run(observers=[view])

    Responsible for:
    - the latest state of every task run it heard of (thread-safe);
    - throttled, non-overlapping renders, and a final one when the run finishes;
    - ``history``: a :class:`Snapshot` per render, for tests and tools;
    - showing a finished run's state too: ``LiveRunView(flow).show(flow_state)``.
    """

    def __init__(self, flow: Flow, *, throttle: float = 0.2) -> None:
        if throttle < 0:
            raise ValueError(f"throttle must be >= 0 seconds, got {throttle}")
        self.flow = flow
        self.throttle = throttle
        self.history: list[Snapshot] = []
        self._lock = threading.Lock()  # the state table below
        self._render_lock = threading.RLock()  # one render at a time
        self._states: dict[tuple[str, int | None], State] = {}
        self._tasks = {t.slug: t for t in flow.tasks}
        self._status = ""
        self._message: str | None = None
        self._started: float | None = None
        self._ended: float | None = None
        self._finished = False
        self._last_render = float("-inf")  # time.monotonic() of the last snapshot
        self._rendering = False
        self._timer: threading.Timer | None = None
        self._handle: Any = None
        self._printing = False  # shown outside IPython: print the final picture
        self._drawn: dict[tuple[str, int | None], State] = {}  # the states of history[-1]
        self._bundle: tuple[int, dict[str, str]] | None = None
        self._order: dict[str, int] | None = None
        self.events = 0
        """Task state changes received."""
        self.marks: dict[str, str] = {}
        """Notes on tasks by slug that the DAG shows (``%flow run``: stale cells)."""

    # ------------------------------------------------------------ observer events
    def run_started(self, flow: Flow, parameters: dict[str, Any], flow_run_id: str) -> None:
        self._begin(time.time())
        self.render()

    def task_state_changed(self, task: Task, map_index: int | None, state: State) -> None:
        if self._record(task, map_index, state):
            self.render()

    def run_finished(self, flow: Flow, state: State) -> None:
        self._finish(state, time.time())
        self.render(final=True)

    def show(self, flow_state: State) -> LiveRunView:
        """Show a finished run's state (``flow.run()``'s result), as ``flow.visualize`` does."""
        self._finish(flow_state, None)
        self.render(final=True)
        return self

    # ------------------------------------------------------------- state table
    def _begin(self, started: float | None, status: str = "Running") -> None:
        with self._lock:
            self._cancel_timer()
            self._states.clear()
            self._started = started
            self._ended = None
            self._status, self._message = status, None
            self._finished = False

    def _set_run(self, status: str, started: float | None) -> None:
        """The flow run's state name, and when it started (for a run seen from outside)."""
        with self._lock:
            self._status = status
            if started is not None:
                self._started = started

    def _record(self, task: Task, map_index: int | None, state: State) -> bool:
        """Remember ``state``; True when this caller should render now (else a timer will)."""
        with self._lock:
            self._states[(task.slug or task.name, map_index)] = state
            self.events += 1
            if self._finished:
                return False
            if self.throttle == 0:
                return True
            return self._claim_render()

    def _claim_render(self) -> bool:
        """Under ``_lock``: whether a render may start now; if not, make sure one will."""
        now = time.monotonic()
        if not self._rendering and now - self._last_render >= self.throttle:
            self._rendering = True  # this caller renders; others leave it to the timer
            return True
        if self._timer is None:
            # a render that takes longer than the throttle delays the next one a little
            wait = max(self._last_render + self.throttle - now, self.throttle / 4)
            self._timer = threading.Timer(wait, self._on_timer)
            self._timer.daemon = True
            self._timer.start()
        return False

    def _on_timer(self) -> None:
        with self._lock:
            self._timer = None
            if self._finished or not self._claim_render():
                return
        self.render()

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _finish(self, state: State, ended: float | None) -> None:
        """The run ended in ``state``; its ``result`` (task -> state) is the last word."""
        with self._lock:
            self._cancel_timer()
            results = state.result if isinstance(state.result, dict) else {}
            for task, task_state in results.items():
                slug = task.slug or task.name
                self._states[(slug, None)] = task_state
                for index, child in enumerate(task_state.map_states or ()):
                    self._states[(slug, index)] = child
            self._status, self._message = state.name, state.message
            self._ended = ended
            self._finished = True

    # ------------------------------------------------------------------ render
    def render(self, *, final: bool = False) -> Snapshot:
        """Record a snapshot of the current states and redraw the display, if shown."""
        with self._render_lock:
            with self._lock:
                self._rendering = True
                self._last_render = time.monotonic()
                snapshot = self._snapshot(final)
                self._drawn = dict(self._states)
            try:
                self.history.append(snapshot)
                if self._handle is not None:
                    self._handle.update(self.mimebundle(), raw=True)
                elif final and self._printing:
                    print(self.mimebundle()["text/plain"])
            finally:
                with self._lock:
                    self._rendering = False
        return snapshot

    def _snapshot(self, final: bool) -> Snapshot:
        states: dict[str, str] = {}
        children: dict[str, Counter[str]] = {}
        counts: Counter[str] = Counter()
        for (slug, index), state in self._states.items():
            if index is None:
                states[slug] = state.name
            else:
                children.setdefault(slug, Counter())[state.name] += 1
            counts[state.name] += 1
        counts["Pending"] += sum(1 for slug in self._tasks if slug not in states
                                 and slug not in children)
        if not counts["Pending"]:
            del counts["Pending"]
        return Snapshot(states=states, children={k: dict(v) for k, v in children.items()},
                        counts=dict(counts), errors=self._errors(), elapsed=self._elapsed(),
                        status=self._status, final=final, at=time.monotonic())

    def _errors(self) -> list[tuple[str, str]]:
        from jupyter_flows.engine.states import TriggerFailed

        if self._order is None:
            self._order = {t.slug or t.name: i for i, t in enumerate(self.flow.sorted_tasks())}
        order = self._order
        failed = [(order.get(slug, len(order)), -1 if index is None else index, slug, index,
                   state) for (slug, index), state in self._states.items()
                  # a trigger failure only echoes an upstream failure, listed already
                  if state.is_failed() and not isinstance(state, TriggerFailed)]
        failed.sort(key=lambda item: item[:2])
        return [(slug if index is None else f"{slug}[{index}]", state.message or state.name)
                for _, _, slug, index, state in failed]

    def _elapsed(self) -> float | None:
        if self._started is None:
            return None
        end = self._ended if self._finished else time.time()
        return None if end is None else max(0.0, end - self._started)

    # ------------------------------------------------------------------ pictures
    def dag_view(self) -> DagView:
        """The :class:`~jupyter_flows.widgets.dag.DagView` of the current states."""
        with self._lock:
            items = list(self._states.items())
        return self._dag_view(items)

    def _dag_view(self, items: list[tuple[tuple[str, int | None], State]]) -> DagView:
        from jupyter_flows.widgets.dag import DagView

        task_states: dict[Task, State] = {}
        children: dict[Task, list[tuple[int, State]]] = {}
        for (slug, index), state in items:
            task = self._tasks.get(slug)
            if task is None:
                continue
            if index is None:
                task_states[task] = state
            else:
                children.setdefault(task, []).append((index, state))
        child_states = {t: [s for _, s in sorted(pairs, key=lambda p: p[0])]
                        for t, pairs in children.items()}
        return DagView(self.flow, task_states, child_states, marks=self.marks)

    def mimebundle(self) -> dict[str, str]:
        """What the display shows for the latest snapshot: HTML with the SVG DAG (or the
        text DAG when graphviz's ``dot`` is missing), and plain text."""
        with self._render_lock:
            if not self.history:
                self.render()
            key = len(self.history)
            if self._bundle is not None and self._bundle[0] == key:
                return self._bundle[1]
            view = self._dag_view(list(self._drawn.items()))
            bundle = run_bundle(self.flow.name, self.history[-1], view,
                                self._message)
            self._bundle = (key, bundle)
            return bundle

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return self.mimebundle()

    def display(self) -> LiveRunView:
        """Show the view in the notebook (or console) output; later renders update it in
        place. Outside IPython, prints the picture now and the final one at the end."""
        from IPython.core.getipython import get_ipython
        from IPython.display import display

        if get_ipython() is None:
            self._printing = True
            print(self.mimebundle()["text/plain"])
            return self
        self._handle = display(self.mimebundle(), raw=True, display_id=True)
        return self


# ---------------------------------------------------------------------- backend runs
def watch_backend_run(client: Client, run_id: str, flow_spec: dict[str, Any] | None = None,
                      *, interval: float = 0.5, max_interval: float = 5.0,
                      timeout: float | None = None, display: bool = True,
                      until_finished: bool = True) -> LiveRunView:
    """Show a backend flow run's DAG and task states, polling until the run finishes.

    The DAG comes from ``flow_spec`` (default: the registered flow's spec). Polls
    ``get_flow_run`` and ``get_task_runs`` every ``interval`` seconds while states change,
    backing off to ``max_interval`` while they do not. Returns the view: after the run
    finished, after ``timeout`` seconds, or after one poll with ``until_finished=False``.
    """
    from jupyter_flows.engine.states import ALL_STATES

    run = client.get_flow_run(run_id)
    spec = flow_spec if flow_spec is not None else client.get_flow(run.flow_id).spec
    flow = flow_from_spec(spec)
    view = LiveRunView(flow, throttle=0)  # the polling is the throttle
    started = _started_at(client, run_id, run.state)
    view._begin(started, status=run.state)
    view.render()
    if display:
        view.display()
    seen: dict[tuple[str, int | None], tuple[str, str | None]] = {}
    deadline = None if timeout is None else time.monotonic() + timeout
    delay = interval
    status = (run.state, run.state_message)
    while True:
        # the run first: a finished run has reported all its task runs already
        run = client.get_flow_run(run_id)
        changed = (run.state, run.state_message) != status
        status = (run.state, run.state_message)
        for task_run in client.get_task_runs(run_id):
            key = (task_run.task_slug, task_run.map_index)
            task = flow.get_tasks(slug=task_run.task_slug)
            if not task or seen.get(key) == (task_run.state, task_run.message):
                continue
            seen[key] = (task_run.state, task_run.message)
            view._record(task[0], task_run.map_index, _state(
                task_run.state, task_run.message, task_run.timestamp.timestamp()))
            changed = True
        if started is None and changed:
            started = _started_at(client, run_id, run.state)
        cls = ALL_STATES.get(run.state)
        if cls is not None and issubclass(cls, ALL_STATES["Finished"]):
            final = _state(run.state, run.state_message, run.state_timestamp.timestamp())
            view._set_run(run.state, started)
            view._finish(final, final.timestamp)
            view.render(final=True)
            return view
        if changed:
            view._set_run(run.state, started)
            view.render()
        if not until_finished or (deadline is not None and time.monotonic() >= deadline):
            return view
        delay = interval if changed else min(delay * 1.5, max_interval)
        if deadline is not None:
            delay = max(0.0, min(delay, deadline - time.monotonic()))
        time.sleep(delay)


def _state(name: str, message: str | None, timestamp: float) -> State:
    from jupyter_flows.engine.states import State, state_from_name

    try:
        return state_from_name(name, message, timestamp=timestamp)
    except ValueError:  # a newer backend's state: keep the name, in the base colour
        return type(name, (State,), {"__slots__": ()})(message, timestamp=timestamp)


def _started_at(client: Client, run_id: str, state: str) -> float | None:
    if state in ("Scheduled", "Submitted", "Pending", "Paused"):
        return None
    for record in client.get_flow_run_states(run_id):
        if record.state == "Running":
            return record.timestamp.timestamp()
    return None
