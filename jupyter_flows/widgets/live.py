"""Live pictures of flow runs: the DAG coloured by task states, a count per state, the
elapsed time and the errors, updated in place as the run goes.

``LiveRunView`` is a :class:`~jupyter_flows.engine.observers.RunObserver` for runs in this
process (``flow.run(observers=[view])``); ``watch_backend_run`` drives the same view from
a backend run's event stream until the run finishes.

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
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from jupyter_flows.api.flow_spec import flow_from_spec
from jupyter_flows.engine.observers import RunObserver
from jupyter_flows.widgets.run_picture import run_bundle

if TYPE_CHECKING:
    from jupyter_flows.api import FlowSpec, RunEvent
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
def watch_backend_run(client: Client, run_id: str, flow_spec: FlowSpec | None = None,
                      *, timeout: float | None = None, display: bool = True,
                      until_finished: bool = True, throttle: float = 0.2) -> LiveRunView:
    """Show a backend flow run's DAG and task states as they change, until it finishes.

    The DAG comes from ``flow_spec`` (default: the registered flow's spec); the states come
    from the run's event stream (no polling). Returns the view: after the run finished,
    after ``timeout`` seconds, or at once with ``until_finished=False`` (the states so far).
    A run that no online agent can take says why, in the view.
    """
    run = client.get_flow_run(run_id)
    spec = flow_spec if flow_spec is not None else client.get_flow(run.flow_id).spec
    flow = flow_from_spec(spec)
    view = LiveRunView(flow, throttle=0 if not until_finished else throttle)
    view._begin(None, status=run.state)
    if run.agent_match is not None and not run.agent_match.matched:
        view._message = run.agent_match.explanation
    follower = _RunFollower(client, run_id, flow, view)
    if not until_finished:
        page = client.run_events(run_id, limit=5000)
        follower.apply(page.items)
        if page.finished:
            follower.finish()
        else:
            view.render()
        if display:
            view.display()
        return view
    view.render()
    if display:
        view.display()
    thread = threading.Thread(target=follower.follow, name=f"watch-{run_id}", daemon=True)
    thread.start()
    thread.join(timeout)
    follower.stop = True
    if follower.error is not None:
        raise follower.error
    return view


class _RunFollower:
    """Applies a backend run's events to a :class:`LiveRunView` (in a thread of its own)."""

    def __init__(self, client: Client, run_id: str, flow: Flow, view: LiveRunView) -> None:
        self.client, self.run_id, self.flow, self.view = client, run_id, flow, view
        self.started: float | None = None
        self.last: tuple[str, str | None, float] | None = None
        self.stop = False
        self.error: BaseException | None = None

    def follow(self) -> None:
        try:
            for event in self.client.follow_run(self.run_id):
                self.apply([event])
                if self.stop:
                    return
            self.finish()  # the stream ended: the run has finished
        except BaseException as exc:  # handed to the caller's thread
            self.error = exc

    def finish(self) -> None:
        if self.last is not None:
            name, message, when = self.last
            self.view._set_run(name, self.started)
            self.view._finish(_state(name, message, when), when)
            self.view.render(final=True)

    def apply(self, events: Iterable[RunEvent]) -> None:
        view = self.view
        for event in events:
            if event.kind == "task_run_state":
                task = self.flow.get_tasks(slug=event.task_slug)
                if task:
                    state = _state(event.state, event.message, event.timestamp.timestamp())
                    if view._record(task[0], event.map_index, state):
                        view.render()
            elif event.kind == "flow_run_state":
                when = event.timestamp.timestamp()
                if event.state == "Running" and self.started is None:
                    self.started = when
                self.last = (event.state, event.message, when)
                view._set_run(event.state, self.started)
                view._message = event.message
                view.render()


def _state(name: str, message: str | None, timestamp: float) -> State:
    from jupyter_flows.engine.states import State, state_from_name

    try:
        return state_from_name(name, message, timestamp=timestamp)
    except ValueError:  # a newer backend's state: keep the name, in the base colour
        return type(name, (State,), {"__slots__": ()})(message, timestamp=timestamp)
