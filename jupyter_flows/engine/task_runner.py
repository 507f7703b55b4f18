"""The task runner: one run of one task (or of one map child), on whatever worker it lands.

A run moves through these states; each move calls the task's state handlers and the
event sink (observers on the driver):

    (upstream not finished)      -> Pending      the run waits; nothing is executed
    (an upstream skipped)        -> Skipped      unless skip_on_upstream_skip=False
    (trigger False / raises)     -> TriggerFailed
    (trigger raises SKIP)        -> Skipped
    (manual_only, not resumed)   -> Paused
    (target exists / cache hit)  -> Cached
    Running -> Success | Failed | TimedOut | Skipped | Paused (PAUSE) | TriggerFailed
    Running -(LOOP)-> Running ...        the next iteration, with task_loop_result
    Failed/TimedOut with retries left, or RETRY -> Retrying -> (retry_delay) -> Running ...
    (KeyboardInterrupt) -> Cancelled      the flow run was interrupted

An attempt of a task with a ``timeout`` runs in a child process (``isolation``) that is
killed when the timeout passes, before any retry starts.

The runner never raises for user errors: they become ``Failed`` states carrying the
exception and its traceback without engine frames.
"""

from __future__ import annotations

import collections.abc
import logging
import pickle
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from jupyter_flows.core.context import (
    RunContext,
    get_run_context,
    reset_run_context,
    set_run_context,
)
from jupyter_flows.core.edges import Edge
from jupyter_flows.core.parameter import Parameter
from jupyter_flows.core.task import Task
from jupyter_flows.engine import cache_validators
from jupyter_flows.engine.isolation import TaskTimeoutError, call_isolated
from jupyter_flows.engine.logs import (
    start_capture,
    start_forwarding,
    stop_capture,
    stop_forwarding,
    task_logger,
)
from jupyter_flows.engine.results import Result, location_values, render_location
from jupyter_flows.engine.states import (
    Cached,
    Cancelled,
    Failed,
    Mapped,
    Paused,
    Pending,
    Retrying,
    Running,
    Skipped,
    State,
    Success,
    TimedOut,
    TriggerFailed,
)
from jupyter_flows.engine.task_slots import TaskSlots, holding
from jupyter_flows.engine.tracebacks import user_traceback
from jupyter_flows.errors import ResultError, TaskIsolationError
from jupyter_flows.executors.base import CollectLogs, LogSink
from jupyter_flows.executors.interrupts import TaskInterrupted
from jupyter_flows.signals import (
    FAIL,
    LOOP,
    PAUSE,
    RETRY,
    SKIP,
    SUCCESS,
    TRIGGERFAIL,
    VALIDATIONFAIL,
    Signal,
)

EventSink = Callable[[str, "int | None", State], None]
"""``sink(task_slug, map_index, state)``: delivers a state change to the driver's observers."""

_log = logging.getLogger("jupyter_flows.engine")

Pick = "int | tuple[int, int] | None"


class _Loop(State):
    """What an attempt that raised LOOP hands back to the retry loop (never reported)."""

    __slots__ = ()


class CachedStates(Protocol):
    """Cached states of earlier runs by map index (None for an unmapped task)."""

    def get(self, index: int | None, /) -> State | None: ...


def element_state(state: State, pick: Any) -> State:
    """The state of one element of a successful upstream result (for a map child)."""
    if pick is None:
        return state
    result = state.result
    value = result[pick[0]][pick[1]] if isinstance(pick, (tuple, list)) else result[pick]
    new = object.__new__(Success if state.is_mapped() else type(state))
    for slot in State.__slots__:
        setattr(new, slot, getattr(state, slot))
    new.result = value
    new.map_states = None
    return new


def _flat_states(states: Sequence[State]) -> list[State]:
    flat: list[State] = []
    for s in states:
        if s.map_states is not None:
            flat.extend(s.map_states)
        else:
            flat.append(s)
    return flat


class TaskStandIn:
    """What a worker knows of an upstream task: enough for triggers and messages."""

    __slots__ = ("name", "slug", "tags")

    def __init__(self, task: Task) -> None:
        self.name, self.slug, self.tags = task.name, task.slug, task.tags

    def __repr__(self) -> str:
        return f"<Task: {self.slug or self.name}>"


class TaskRunner:
    """Runs one task of one flow run; called once per map child with that child's index."""

    __slots__ = ("cached", "constants", "edges", "flow_name", "flow_run_id", "log_sink",
                 "map_failure", "parameters", "portable", "result", "resumed", "sink", "slots",
                 "task")

    def __init__(self, task: Task, edges: Sequence[Edge], constants: dict[str, Any], *,
                 flow_name: str, flow_run_id: str, parameters: dict[str, Any],
                 result: Result | None = None, sink: EventSink | None = None,
                 resumed: bool = False, cached: CachedStates | None = None,
                 portable: bool = False, map_failure: str | None = None,
                 log_sink: LogSink | None = None, slots: TaskSlots | None = None) -> None:
        self.task = task
        self.edges = tuple(edges)
        self.constants = constants
        self.flow_name = flow_name
        self.flow_run_id = flow_run_id
        self.parameters = parameters
        self.result = result
        self.sink = sink
        self.resumed = resumed
        self.cached = cached
        self.portable = portable  # states must pickle (they cross processes)
        self.map_failure = map_failure  # set when a map could not expand
        self.log_sink = log_sink  # where records go when this runs in another process
        self.slots = slots  # tag concurrency limits (a backend run's; None: no limits)

    def __getstate__(self) -> dict[str, Any]:
        # a runner travels to workers with its own task only: the upstream tasks of its
        # edges become stand-ins (name, slug, tags), so an upstream that cannot be pickled
        # (or is large) does not travel with every downstream runner
        state = {name: getattr(self, name) for name in TaskRunner.__slots__}
        state["edges"] = tuple((TaskStandIn(e.upstream), e.key, e.mapped, e.flattened)
                               for e in self.edges)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name, value in state.items():
            setattr(self, name, value)
        self.edges = tuple(Edge(up, self.task, key, mapped, flattened)
                           for up, key, mapped, flattened in state["edges"])

    # ------------------------------------------------------------------ steps
    def _move(self, old: State | None, new: State, map_index: int | None) -> State:
        if self.task.state_handlers:
            new = self._call_handlers(old, new, map_index)
        if self.sink is not None:
            self.sink(self.task.slug or self.task.name, map_index, new)
        return new

    def _call_handlers(self, old: State | None, new: State, map_index: int | None) -> State:
        # handlers see the task run's context (flow name, run id, map index), as Prefect's
        # do: notifiers say which run failed, wherever the task ran
        token = None
        if get_run_context() is None:
            token = set_run_context(RunContext(
                self.flow_name, self.flow_run_id, self.task.name,
                self.task.slug or self.task.name, map_index, parameters=self.parameters))
        try:
            for handler in self.task.state_handlers:
                try:
                    replaced = handler(self.task, old, new)
                except Exception as exc:
                    # handlers are user code: an error fails the task (on every executor)
                    # instead of escaping the runner and the flow run
                    new = self._failed(exc)
                    new.message = f"state handler {_name(handler)} raised {new.message}"
                    break
                if replaced is not None:
                    new = replaced
        finally:
            if token is not None:
                reset_run_context(token)
        return new

    def __call__(self, map_index: int | None, picks: Sequence[Any] | None,
                 *upstream: State) -> State:
        task = self.task
        if picks is not None:
            upstream = tuple(element_state(s, p) for s, p in zip(upstream, picks))
        flat = _flat_states(upstream) if upstream else upstream
        for state in flat:
            if not state.is_finished():
                return self._move(None, Pending("an upstream task has not finished"), map_index)
        if task.skip_on_upstream_skip and any(s.is_skipped() for s in flat):
            return self._move(None, Skipped("an upstream task was skipped"), map_index)
        upstream_states = dict(zip(self.edges, upstream))
        try:
            ready = task.trigger(upstream_states)
        except PAUSE as signal:
            if not self.resumed:
                return self._move(None, Paused(signal.message), map_index)
            ready = True
        except SKIP as signal:  # e.g. merge() when no case branch ran: skip, not a failure
            return self._move(None, Skipped(signal.message), map_index)
        except TRIGGERFAIL as signal:
            return self._move(None, self._trigger_failed(upstream, signal.message), map_index)
        except Exception as exc:
            return self._move(None, TriggerFailed(
                f"trigger {_name(task.trigger)} raised {type(exc).__name__}: {exc}"), map_index)
        if not ready:
            return self._move(None, self._trigger_failed(upstream, None), map_index)
        if self.map_failure is not None:
            return self._move(None, Failed(self.map_failure), map_index)
        if isinstance(task, Parameter):
            return self._move(None, Success(result=self.parameters.get(task.name, task.default)),
                              map_index)
        inputs = dict(self.constants)
        for edge, state in zip(self.edges, upstream):
            if edge.key is not None:
                inputs[edge.key] = state.result
        return self._run(inputs, map_index)

    def _trigger_failed(self, upstream: Sequence[State], reason: str | None) -> State:
        names = ", ".join(f"{e.upstream.slug}={s.name}" for e, s in zip(self.edges, upstream))
        why = f": {reason}" if reason else ""
        return TriggerFailed(f"trigger {_name(self.task.trigger)} was not met{why}"
                             f" (upstream: {names})")

    def _run(self, inputs: dict[str, Any], map_index: int | None) -> State:
        task = self.task
        slug = task.slug or task.name
        run_name = self._run_name(inputs)
        target_path = None
        result = self.result
        if result is not None and task.target is not None:
            values = location_values(self.flow_name, self.flow_run_id, task.name, slug,
                                     map_index, run_name, inputs, self.parameters)
            try:
                target_path = render_location(task.target, values)
                if result.exists(target_path):
                    hit: State = Cached(f"read from target {result.path(target_path)}",
                                   result=result.read(target_path))
                    hit.location = result.path(target_path)
                    return self._move(None, hit, map_index)
            except ResultError as exc:
                return self._move(None, Failed(str(exc), result=exc), map_index)
        if self.cached is not None:
            candidate = self.cached.get(map_index)
            validator = task.cache_validator or cache_validators.duration_only
            if candidate is not None and validator(candidate, inputs, self.parameters):
                reused: State = Cached("used the cached result of an earlier run",
                                       result=candidate.result)
                reused.cached_inputs = candidate.cached_inputs
                return self._move(None, reused, map_index)

        sink = self.log_sink
        if sink is None or not sink.wanted():
            return self._execute(inputs, map_index, run_name, target_path)
        logs: list[dict[str, Any]] = []
        token = start_forwarding(logs.append if isinstance(sink, CollectLogs) else sink.send)
        try:
            state = self._execute(inputs, map_index, run_name, target_path)
        finally:
            stop_forwarding(token)
        if logs:
            state.context = {**(state.context or {}), "logs": logs}
        return state

    def _execute(self, inputs: dict[str, Any], map_index: int | None, run_name: str | None,
                 target_path: str | None) -> State:
        task = self.task
        slug = task.slug or task.name
        result = self.result
        logger = task_logger(self.flow_name, slug, task.name, map_index, self.flow_run_id)
        ctx = RunContext(self.flow_name, self.flow_run_id, task.name, slug, map_index, run_name,
                         1, self.parameters, resume=self.resumed, logger=logger)
        previous: State | None = None
        try:
            state, previous = self._attempts(inputs, ctx, map_index)
        except KeyboardInterrupt as exc:
            # the flow run is being interrupted: report this run Cancelled, then stop (in
            # the driver's thread the interrupt goes on up to the flow runner)
            cancelled: State = Cancelled("interrupted while running (KeyboardInterrupt)",
                                  run_count=ctx.run_count)
            cancelled = self._move(previous, cancelled, map_index)
            if isinstance(exc, TaskInterrupted):
                return cancelled
            raise
        if state is previous:  # a state handler failed (or replaced) the run
            return state
        if isinstance(state, Success) and not isinstance(state, Skipped):
            if task.cache_for is not None:
                state.cached_inputs = cache_validators.cache_record(
                    inputs, self.parameters, task.cache_for)
            if result is not None and task.checkpoint is not False and (
                task.checkpoint or task.target is not None or task.result is not None
            ):
                relative = target_path or (
                    f"{self.flow_name}/{slug}/{self.flow_run_id}"
                    f"{'' if map_index is None else f'-{map_index}'}.result")
                try:
                    state.location = result.write(relative, state.result)
                except ResultError as exc:
                    if not result.best_effort:
                        state = Failed(str(exc), result=exc)
                    else:  # a default location: no checkpoint, the task runs on a restart
                        logger.warning("%s; this task run has no checkpoint", exc)
        if isinstance(state, Failed):
            logger.error("%s%s", state.message, f"\n{state.traceback}" if state.traceback else "")
        context: dict[str, Any] = {"task_run_name": run_name} if run_name else {}
        if ctx.loop_count > 1:
            context["loop_count"] = ctx.loop_count
        state.context = context or None
        return self._move(previous, state, map_index)

    def _attempts(self, inputs: dict[str, Any], ctx: RunContext,
                  map_index: int | None) -> tuple[State, State | None]:
        """Attempts until one ends the run: retries and LOOP iterations; returns the final
        state and the last state moved to (the same object when a handler stopped it)."""
        task = self.task
        previous: State | None = None
        run_count = 0
        message: str | None = None
        while True:
            run_count += 1
            ctx.run_count = run_count
            waited: list[State] = []
            report_wait = self._wait_reporter(previous, map_index, run_count, waited)
            with holding(self.slots, ctx.task_slug, map_index, task.tags, report_wait):
                if waited:
                    previous = waited[-1]
                previous = self._move(previous, Running(message, run_count=run_count),
                                      map_index)
                if not previous.is_running():
                    return previous, previous
                state = self._attempt(inputs, ctx)
            if isinstance(state, _Loop):  # the next iteration; retries count per iteration
                ctx.loop_count += 1
                ctx.loop_result = state.result
                message = f"loop iteration {ctx.loop_count}" + (
                    f" ({state.message})" if state.message else "")
                run_count = 0
                continue
            message = None
            state.run_count = run_count
            retry = isinstance(state, Retrying)
            if not retry and isinstance(state, Failed) and run_count <= task.max_retries:
                error = state.result
                # FAIL is an Exception, so retry_on=(Exception,) would match it, but the
                # signal means "fail now, without retrying"; a call that cannot travel to
                # its child process will not travel on a retry either
                if isinstance(state, TimedOut) or (
                    isinstance(error, BaseException)
                    and not isinstance(error, FAIL | TaskIsolationError)
                    and isinstance(error, task.retry_on)
                ):
                    retry = True
            if not retry:
                return state, previous
            delay = task.retry_delay
            ctx.logger.warning("attempt %d failed (%s); retrying in %gs", run_count,
                               state.message, delay)
            previous = self._move(previous, Retrying(
                f"attempt {run_count} failed: {state.message}; retrying in {delay:g} s",
                run_count=run_count, timestamp=time.time() + delay), map_index)
            if not previous.is_retrying():
                return previous, previous
            if delay:
                time.sleep(delay)

    def _wait_reporter(self, previous: State | None, map_index: int | None, run_count: int,
                       into: list[State]) -> Callable[[str], None]:
        """What reports that an attempt waits for a tag's slot: a Pending state saying so."""
        def report(reason: str) -> None:
            into.append(self._move(previous, Pending(reason, run_count=run_count - 1),
                                   map_index))
        return report

    def _attempt(self, inputs: dict[str, Any], ctx: RunContext) -> State:
        task = self.task
        token = set_run_context(ctx)
        capture = start_capture(ctx.logger) if task.log_stdout else None
        try:
            if task.timeout is None:
                value = task.run(**inputs)
            else:
                value = call_isolated(task.run, inputs, ctx, task.timeout)
            return Success(result=value)
        except TaskTimeoutError as exc:
            return TimedOut(f"task {task.name!r} {exc}", result=exc)
        except TaskIsolationError as exc:
            return Failed(str(exc), result=exc)
        except Signal as signal:
            return self._signal_state(signal)
        except Exception as exc:
            return self._failed(exc)
        finally:
            if capture is not None:
                stop_capture(capture)
            reset_run_context(token)

    def _signal_state(self, signal: Signal) -> State:
        message = signal.message
        if isinstance(signal, SKIP):
            return Skipped(message or "skipped by the task", result=signal.result)
        if isinstance(signal, SUCCESS):
            return Success(message, result=signal.result)
        if isinstance(signal, RETRY):
            return Retrying(message or "the task asked to be retried")
        if isinstance(signal, PAUSE):
            return Paused(message or "the task paused itself: resume it to run it again")
        if isinstance(signal, LOOP):
            return _Loop(message, result=signal.result)
        if isinstance(signal, TRIGGERFAIL):
            return TriggerFailed(message or "the task failed its trigger", result=signal)
        if isinstance(signal, FAIL | VALIDATIONFAIL):
            state = Failed(message or "the task failed itself", result=signal)
            state.traceback = user_traceback(signal)
            return state
        return self._failed(signal)

    def _failed(self, exc: BaseException) -> State:
        text = user_traceback(exc)
        # the message names the user's exception on every executor, even when an
        # unpicklable one is replaced below
        message = f"{type(exc).__name__}: {exc}"
        if self.portable:
            try:
                pickle.dumps(exc)
            except Exception:
                exc = RuntimeError(message)
        return Failed(message, result=exc, traceback=text)

    def _run_name(self, inputs: dict[str, Any]) -> str | None:
        template = self.task.task_run_name
        if template is None:
            return None
        try:
            return template(**inputs) if callable(template) else template.format(**inputs)
        except Exception as exc:
            _log.warning("task %r: task_run_name %r failed: %s", self.task.name, template, exc)
            return None

    # ---------------------------------------------------------- map helpers
    def collect(self, *children: State) -> State:
        """The parent state of a mapped task, built from its children's states."""
        state = Mapped(f"mapped over {len(children)} element(s)",
                       result=[c.result for c in children])
        state.map_states = list(children)
        return self._move(None, state, None)


def _name(fn: Any) -> str:
    return getattr(fn, "__name__", repr(fn))


def map_width(state: State) -> int | None:
    """How many children a map over this upstream state gets, or None if it cannot map."""
    if not state.is_successful() or state.is_skipped():
        return None
    if state.map_states is not None:
        return len(state.map_states)
    return len(state.result) if indexable(state.result) else None


def indexable(value: Any) -> bool:
    """Whether a map can take element ``i`` of ``value``: a sequence, not a set or a dict."""
    if isinstance(value, collections.abc.Sequence):
        return True
    if isinstance(value, collections.abc.Mapping | collections.abc.Set):
        return False
    return hasattr(value, "__getitem__") and hasattr(value, "__len__")


def flattened_widths(state: State) -> list[int] | None:
    """The length of each inner list of an upstream result that is to be flattened."""
    if not state.is_successful() or state.is_skipped():
        return None
    if not indexable(state.result) or not all(indexable(i) for i in state.result):
        return None
    return [len(inner) for inner in state.result]
