"""The flow runner: turns a flow into stages of task-run calls for an executor.

The driver walks the tasks in topological order and puts every task whose shape is known
into the current *stage*, which the executor runs as one batch (one dask graph): data moves
between workers, never through the driver. A mapped task's width is known in the driver
when it maps over a constant, a parameter or an expanded map; otherwise the stage also
computes the upstream's length (a tiny call), and the mapped task and everything downstream
of it wait for the next stage. Child ``i`` of a map over an expanded map depends only on
child ``i`` upstream, so chains of maps run depth-first.

At the end, one gather brings back each task's final state; the flow's state follows from
its reference tasks.

Ctrl-C (KeyboardInterrupt in the driver) ends the run within about a second: the session
stops what runs (worker threads get TaskInterrupted, pool processes are killed), every
task run that had not finished becomes ``Cancelled``, observers get those states, and
``flow.run`` *returns* the ``Cancelled`` flow state (as Prefect 1.x's did) instead of
raising, so a notebook shows one line, not a traceback.
"""

from __future__ import annotations

import logging
import sys
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from jupyter_flows.core.edges import Edge
from jupyter_flows.core.flow import Flow
from jupyter_flows.core.parameter import Parameter, parameters_problem
from jupyter_flows.core.task import Constant, Task
from jupyter_flows.engine.cache import CacheStore, default_cache_store, read_cached
from jupyter_flows.engine.flow_handlers import call_flow_handlers
from jupyter_flows.engine.hooks import engine_hooks
from jupyter_flows.engine.logs import ensure_default_handler
from jupyter_flows.engine.observers import ObserverHub, RunObserver
from jupyter_flows.engine.results import Result
from jupyter_flows.engine.states import (
    Cancelled,
    Crashed,
    Failed,
    Paused,
    Running,
    State,
    Success,
)
from jupyter_flows.engine.task_runner import (
    TaskRunner,
    flattened_widths,
    indexable,
    map_width,
)
from jupyter_flows.engine.task_slots import TaskSlots
from jupyter_flows.errors import ParameterError, ResultError
from jupyter_flows.executors.base import Call, ExecutionError, Ref, Session, executor_from_config

_log = logging.getLogger("jupyter_flows.flow_runner")


def resolve_parameters(flow: Flow, given: Mapping[str, Any] | None) -> dict[str, Any]:
    """The parameter values of a run; a missing required or unknown name raises ParameterError."""
    given = dict(given or {})
    params = {p.name: p for p in flow.parameters()}
    problem = parameters_problem(flow.name, {n: p.required for n, p in params.items()}, given)
    if problem:
        raise ParameterError(problem)
    return {name: p.coerce(given.get(name, p.default)) for name, p in params.items()}


def _given(state: State) -> State:
    return state


def _key(slug: str, run_id: str, index: int | None = None) -> str:
    return f"{slug}-{run_id}" if index is None else f"{slug}-{run_id}-{index}"


class _Planner:
    """Builds and submits the stages of one flow run."""

    def __init__(self, flow: Flow, order: list[Task], parameters: dict[str, Any],
                 session: Session, run_id: str, task_states: Mapping[Task, State],
                 resume: set[Task], cache_store: CacheStore,
                 task_slots: TaskSlots | None = None) -> None:
        self.flow = flow
        self.order = order
        self.parameters = parameters
        self.session = session
        self.run_id = run_id
        self.seeded = task_states
        self.resume = resume
        self.cache_store = cache_store
        self.task_slots = task_slots
        self.handle: dict[Task, str] = {}
        self.children: dict[Task, list[str]] = {}
        self.widths: dict[tuple[Task, Edge], Any] = {}

    # ------------------------------------------------------------------ stages
    def run(self) -> dict[Task, State]:
        remaining = self.order
        while remaining:
            calls: list[Call] = []
            width_calls: list[tuple[Task, Edge, str]] = []
            deferred: list[Task] = []
            waiting: set[Task] = set()
            for task in remaining:
                edges = self.flow.edges_to(task)
                if any(e.upstream in waiting for e in edges) or not self._plan(
                    task, edges, calls, width_calls
                ):
                    deferred.append(task)
                    waiting.add(task)
            self.session.submit(calls, last=not deferred)
            if width_calls:
                values = self.session.gather([key for _, _, key in width_calls])
                for (task, edge, _), value in zip(width_calls, values):
                    # a lost call (ExecutionError) or a crashed one (a State) has no width
                    self.widths[(task, edge)] = value if isinstance(value, int | list) else None
            if len(deferred) == len(remaining):  # pragma: no cover - a planner bug, not user error
                raise RuntimeError(f"flow runner made no progress on {deferred}")
            remaining = deferred
        tasks = list(self.handle)
        states = self.session.gather([self.handle[t] for t in tasks])
        return {t: self._final(s) for t, s in zip(tasks, states)}

    def cancel(self) -> dict[Task, State]:
        """After an interrupt: stop the session's running calls; what finished keeps its
        state, everything else is Cancelled (saying whether it was running)."""
        from jupyter_flows.executors import interrupts

        running = self.session.running()
        stuck = self.session.interrupt(grace=0.5)
        done = self.session.finished()

        def state_of(key: str | None) -> State:
            value = done.get(key) if key is not None else None
            if isinstance(value, State) and value.is_finished():
                return value
            if key in stuck:
                return stuck[key]
            return Cancelled(interrupts.INTERRUPTED if key in running else interrupts.NOT_RUN)

        states: dict[Task, State] = {}
        for task in self.order:
            key = self.handle.get(task)
            state = state_of(key)
            if task in self.children and state.is_cancelled():
                state.map_states = [state_of(k) for k in self.children[task]]
            states[task] = state
        return states

    @staticmethod
    def _final(value: Any) -> State:
        if isinstance(value, ExecutionError):
            exc = value.exception
            return Crashed(f"the executor lost this task run: {type(exc).__name__}: {exc}",
                           result=exc)
        return value

    # -------------------------------------------------------------- one task
    def _runner(self, task: Task, edges: Sequence[Edge], map_failure: str | None = None,
                mapped: bool = False) -> TaskRunner:
        cached: _ChildCache | dict[int | None, State] | None = None
        if task.cache_for is not None:
            base = task.cache_key or f"{self.flow.name}/{task.slug}"
            if mapped:
                cached = _ChildCache(self.cache_store, base, task.slug or task.name)
            else:
                state = read_cached(self.cache_store, base, task.slug or task.name)
                cached = {None: state} if state is not None else None
        return TaskRunner(
            task, edges, self.flow.constants.get(task, {}), flow_name=self.flow.name,
            flow_run_id=self.run_id, parameters=self.parameters,
            result=self._result_location(task), sink=self.session.sink,
            resumed=task in self.resume, cached=cached,
            portable=self.session.portable, map_failure=map_failure,
            log_sink=self.session.log_sink, slots=self.task_slots,
        )

    def _result_location(self, task: Task) -> Result | None:
        if task.result is not None:
            return task.result
        if task.checkpoint or task.target is not None:
            if self.flow.result is None:
                raise ResultError(
                    f"task {task.slug!r} checkpoints its result but neither it nor flow"
                    f" {self.flow.name!r} has a result location: pass result=Result(DIR_OR_URL)"
                )
            return self.flow.result
        return None

    def _plan(self, task: Task, edges: list[Edge], calls: list[Call],
              width_calls: list[tuple[Task, Edge, str]]) -> bool:
        """Add the calls of ``task`` to the stage; False if it must wait for widths."""
        slug = task.slug or task.name
        seeded = self.seeded.get(task)
        if seeded is not None and seeded.is_finished():
            key = _key(slug, self.run_id)
            self.handle[task] = key
            if seeded.map_states is not None:
                self.children[task] = [_key(slug, self.run_id, i)
                                       for i in range(len(seeded.map_states))]
            calls.append(Call(key, _given, (seeded,)))
            return True
        upstream_refs = tuple(Ref(self.handle[e.upstream]) for e in edges)
        mapped_edges = [e for e in edges if e.mapped]
        if not mapped_edges:
            key = _key(slug, self.run_id)
            self.handle[task] = key
            calls.append(Call(key, self._runner(task, edges), (None, None, *upstream_refs),
                              (slug, None), task.tags))
            return True
        return self._plan_map(task, slug, edges, mapped_edges, calls, width_calls)

    def _plan_map(self, task: Task, slug: str, edges: list[Edge], mapped_edges: list[Edge],
                  calls: list[Call], width_calls: list[tuple[Task, Edge, str]]) -> bool:
        # How each mapped edge feeds child i: ("child", keys) | ("pick", [picks]).
        feeds: dict[Edge, tuple[str, Sequence[Any]]] = {}
        widths: list[int] = []
        pending = False
        failure: str | None = None
        for edge in mapped_edges:
            up = edge.upstream
            if (task, edge) in self.widths:
                known = self.widths[(task, edge)]
                if known is None:
                    failure = f"cannot map over {up.slug!r}: its result is not a sequence"
                    continue
                picks: list[Any] = (
                    [(i, k) for i, n in enumerate(known) for k in range(n)]
                    if edge.flattened else list(range(known))
                )
                feeds[edge] = ("pick", picks)
                widths.append(len(picks))
                continue
            if not edge.flattened and up in self.children:
                feeds[edge] = ("child", self.children[up])
                widths.append(len(self.children[up]))
                continue
            value, is_known = self._driver_value(up)
            if is_known:
                if not indexable(value) or (edge.flattened and not all(map(indexable, value))):
                    failure = (f"cannot map over {up.slug!r}: a {type(value).__name__}"
                               f" is not a sequence")
                    continue
                picks = ([(i, k) for i, inner in enumerate(value) for k in range(len(inner))]
                         if edge.flattened else list(range(len(value))))
                feeds[edge] = ("pick", picks)
                widths.append(len(picks))
                continue
            width_key = f"width:{slug}:{len(width_calls)}-{self.run_id}"
            fn = flattened_widths if edge.flattened else map_width
            calls.append(Call(width_key, fn, (Ref(self.handle[up]),)))
            width_calls.append((task, edge, width_key))
            pending = True
        if pending:
            return False
        key = _key(slug, self.run_id)
        self.handle[task] = key
        whole = tuple(Ref(self.handle[e.upstream]) for e in edges)
        if failure is not None:
            calls.append(Call(key, self._runner(task, edges, map_failure=failure),
                              (None, None, *whole), (slug, None), task.tags))
            return True
        width = min(widths)
        runner = self._runner(task, edges, mapped=True)
        child_keys = [_key(slug, self.run_id, i) for i in range(width)]
        # an unfinished seeded state may carry finished children (a restarted run keeps
        # the children that succeeded): those are given, the others run
        seeded = self.seeded.get(task)
        kept = (seeded.map_states or []) if seeded is not None else []
        for i, child_key in enumerate(child_keys):
            if i < len(kept) and kept[i].is_finished():
                calls.append(Call(child_key, _given, (kept[i],)))
                continue
            args: list[Any] = []
            child_picks: list[Any] = []
            for edge, ref in zip(edges, whole):
                feed = feeds.get(edge)
                if feed is None:
                    args.append(ref)
                    child_picks.append(None)
                elif feed[0] == "child":
                    args.append(Ref(feed[1][i]))
                    child_picks.append(None)
                else:
                    args.append(ref)
                    child_picks.append(feed[1][i])
            has_picks = any(p is not None for p in child_picks)
            calls.append(Call(child_key, runner,
                              (i, tuple(child_picks) if has_picks else None, *args), (slug, i),
                              task.tags))
        self.children[task] = child_keys
        calls.append(Call(key, runner.collect, tuple(Ref(k) for k in child_keys), (slug, None)))
        return True

    def _driver_value(self, task: Task) -> tuple[Any, bool]:
        """A task's result if the driver knows it without running anything."""
        if isinstance(task, Constant):
            return task.value, True
        if isinstance(task, Parameter):
            return self.parameters[task.name], True
        return None, False


class _ChildCache:
    """Looks up the cached state of map child ``i`` lazily, on the worker that needs it."""

    def __init__(self, store: CacheStore, base: str, slug: str) -> None:
        self.entries: dict[int, State] = {}
        i = 0
        while (state := read_cached(store, f"{base}[{i}]", slug)) is not None:
            self.entries[i] = state
            i += 1

    def get(self, index: int | None) -> State | None:
        return self.entries.get(index) if index is not None else None


def _flow_state(flow: Flow, task_states: dict[Task, State], duration: float,
                interrupted: bool = False) -> State:
    paused = [t.slug or t.name for t, s in task_states.items() if s.is_paused()]
    if interrupted:
        cancelled = sum(1 for s in task_states.values() if s.is_cancelled())
        state: State = Cancelled(
            f"interrupted (KeyboardInterrupt) after {duration:.1f} s;"
            f" {cancelled} task run(s) cancelled")
    elif paused:
        state = Paused(
            f"waiting for approval of {', '.join(paused)}: run again with"
            f" task_states=state.result, resume=[...]"
        )
    else:
        failed = []
        for task in flow.reference_tasks():
            s = task_states.get(task)
            if s is None:
                continue
            if s.is_failed() or any(c.is_failed() for c in s.map_states or ()):
                failed.append(task.slug)
        if failed:
            state = Failed(_failure_message(flow, task_states, failed))
        else:
            state = Success("all reference tasks succeeded")
    state.result = task_states
    state.context = {"duration": duration}
    return state


def _failure_message(flow: Flow, task_states: Mapping[Task, State],
                     failed: Sequence[str | None]) -> str:
    """Names the task run that failed first, by time then DAG order (not a TriggerFailed
    one, which only echoes an upstream failure), then the reference tasks that failed."""
    position = {task: i for i, task in enumerate(flow.sorted_tasks())}
    raised = []
    for task, s in task_states.items():
        slug = task.slug or task.name
        runs = [(slug, s)] + [(f"{slug}[{i}]", c) for i, c in enumerate(s.map_states or ())]
        raised += [(run.timestamp, position.get(task, len(position)), label, run)
                   for label, run in runs if run.is_failed() and run.name != "TriggerFailed"]
    rest = f"reference tasks failed: {', '.join(map(str, failed))}"
    if not raised:
        return f"some {rest}"
    _, _, label, first = min(raised, key=lambda item: item[:2])
    verb = "failed" if first.name == "Failed" else first.name
    text = (first.message or "").strip().splitlines()
    head = f"task {label!r} {verb}" + (f": {text[0]}" if text else "")
    others = [slug for slug in failed if slug != label]
    return head + (f"; reference tasks failed: {', '.join(map(str, others))}" if others else "")


def _auto_progress() -> bool:
    return bool(getattr(sys.stderr, "isatty", lambda: False)()) and "ipykernel" not in sys.modules


def run_flow(
    flow: Flow,
    parameters: Mapping[str, Any] | None = None,
    executor: Any = None,
    *,
    observers: Iterable[RunObserver] = (),
    progress: bool | None = None,
    task_states: Mapping[Task, State] | None = None,
    resume: Iterable[Task | str] = (),
    cache_store: CacheStore | None = None,
    flow_run_id: str | None = None,
    task_slots: TaskSlots | None = None,
) -> State:
    """Run ``flow`` in this process and return its state; ``state.result[task]`` is each
    task's state.

    ``executor`` is an Executor, a config dict/JSON, or a type name; default: the flow's,
    else LocalExecutor. ``task_states`` seeds finished states from an earlier run (those
    tasks do not run again; an unfinished state of a mapped task whose ``map_states`` hold
    some finished children seeds just those children) and ``resume`` approves
    ``manual_only`` tasks by task or slug. ``task_slots`` enforces tag concurrency limits
    (a backend run's; locally there are none).
    Definition errors (cycles, parameters, executor configs) raise before anything runs.
    """
    order = flow.sorted_tasks()
    params = resolve_parameters(flow, parameters)
    chosen = executor_from_config(executor if executor is not None else flow.executor)
    run_id = flow_run_id or uuid.uuid4().hex[:12]
    resumed = {flow.task_by_slug(r) if isinstance(r, str) else r for r in resume}
    observer_list = list(observers)
    if progress or (progress is None and _auto_progress()):
        from jupyter_flows.engine.progress import RichProgress

        observer_list.append(RichProgress())
    hub = ObserverHub(flow, observer_list) if observer_list else None
    ensure_default_handler()

    started = time.perf_counter()
    state: State = Running(f"running with {chosen.describe()}")
    state, refused = call_flow_handlers(flow, None, state)
    if hub is not None:
        hub.run_started(flow, params, run_id)
    if refused:  # a handler raised on Running: like a task's, the run does not go on
        return _finish(flow, hub, run_id, state)
    _log.info("flow run %r of %r: started with %s", run_id, flow.name, chosen.describe())
    # not `cache_store or ...`: an empty MemoryCacheStore is falsy (it has __len__)
    store = cache_store if cache_store is not None else default_cache_store
    interrupted = False
    with chosen.start(engine_hooks(hub.task_event if hub is not None else None)) as session:
        planner = _Planner(flow, order, params, session, run_id, task_states or {}, resumed,
                           store, task_slots)
        try:
            states = planner.run()
        except KeyboardInterrupt:
            _log.warning("flow run %r of %r: interrupted; cancelling its task runs",
                         run_id, flow.name)
            interrupted = True
            states = planner.cancel()
    _remember_cacheable(flow, states, store)
    final = _flow_state(flow, states, time.perf_counter() - started, interrupted)
    final.context = {**(final.context or {}), "flow_run_id": run_id}
    final, _ = call_flow_handlers(flow, state, final)
    return _finish(flow, hub, run_id, final)


def _finish(flow: Flow, hub: ObserverHub | None, run_id: str, final: State) -> State:
    final.context = {**(final.context or {}), "flow_run_id": run_id}
    log = _log.error if final.is_failed() else _log.info
    log("flow run %r of %r: %s (%s)", run_id, flow.name, final.name, final.message)
    if hub is not None:
        hub.run_finished(flow, final)
    return final


def _remember_cacheable(flow: Flow, states: dict[Task, State], store: CacheStore) -> None:
    for task, state in states.items():
        if task.cache_for is None:
            continue
        base = task.cache_key or f"{flow.name}/{task.slug}"
        if state.map_states is not None:
            for i, child in enumerate(state.map_states):
                if _fresh(child):
                    store.put(f"{base}[{i}]", child)
        elif _fresh(state):
            store.put(base, state)


def _fresh(state: State) -> bool:
    return isinstance(state, Success) and not state.is_cached() and bool(state.cached_inputs)
