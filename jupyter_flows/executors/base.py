"""The executor contract: a JSON-able config that starts a session running batches of calls.

The flow runner hands a session a *stage*: a list of ``Call(key, fn, args)`` where an
argument may be a ``Ref`` to the key of any earlier call. A session runs them the way its
engine does best (in order in process, as one dask graph on a local scheduler, as one graph
sent to a distributed scheduler) and later ``gather``s the results the runner asks for.
Data moves between calls inside the engine; only what is gathered comes back.

Executors sit below the engine and never import it: what a session needs from the engine
(making and decoding states, re-emitting log records, reporting state changes) comes in
the :class:`EngineHooks` handed to ``Executor.start``.

Executor configs are pydantic models with a ``type`` discriminator, so they can be stored
by the backend, rendered as forms, and overridden per run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict

from jupyter_flows.configs import ConfigKind
from jupyter_flows.errors import ExecutorConfigError

EventHandler = Callable[[str, "int | None", Any], None]
"""``(task slug, map index, state)``: a task run's state changed."""


class Ref:
    """A reference, inside a call's arguments, to the result of the call with ``key``."""

    __slots__ = ("key",)

    def __init__(self, key: str) -> None:
        self.key = key

    def __repr__(self) -> str:
        return f"Ref({self.key!r})"


@dataclass(slots=True)
class Call:
    """One function call of a stage; ``label`` = (task slug, map index) for task runs, whose
    ``tags`` are the task's (``dask-resource:GPU=1`` places it on a Dask worker)."""

    key: str
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    label: tuple[str, int | None] | None = None
    tags: frozenset[str] | set[str] = frozenset()


class ExecutionError:
    """Stands in for a result whose call raised inside the executor (e.g. a worker died)."""

    __slots__ = ("exception",)

    def __init__(self, exception: BaseException) -> None:
        self.exception = exception


class LogSink:
    """Where a task run in another process sends its log records, to be re-emitted on the
    driver (``EngineHooks.on_log``). ``wanted()`` is False where the run shares the
    driver's process, whose logging already sees the records."""

    def wanted(self) -> bool:
        return True

    def send(self, record: dict[str, Any]) -> None:
        raise NotImplementedError


class CollectLogs(LogSink):
    """Keep a run's records with its final state (``state.context["logs"]``): for process
    pools, whose results come back to the driver anyway."""


@dataclass(frozen=True)
class EngineHooks:
    """What the engine hands a session at start, so executors need not import it.

    The state makers are plain classes or module functions: a session may ship them to
    workers inside a call (a task that cannot be pickled becomes a call of ``failed``).
    """

    on_event: EventHandler | None
    """Told of task runs' state changes; None when nobody observes them."""
    on_log: Callable[[dict[str, Any]], None]
    """Re-emits, in the driver, a log record a task run logged in another process."""
    failed: Callable[[str], Any]
    crashed: Callable[[str], Any]
    cancelled: Callable[[str], Any]
    """Each makes a final state with that message (Failed, Crashed, Cancelled)."""
    encode_state: Callable[[Any], dict[str, Any]]
    decode_state: Callable[[Mapping[str, Any]], Any]
    """A state as plain data (msgpack-able, for Dask's event topics), and back."""
    result_events: Callable[[Any], list[Any]]
    """The state changes a call's value, arriving in the driver, reports (for sessions
    whose task runs cannot report themselves): none unless it is a task run's state."""


class Session(Protocol):
    """A started executor, living for one flow run."""

    portable: bool
    """Whether results cross process boundaries (and so must pickle)."""
    sink: EventHandler | None
    """What task runners call with state changes; None if the session reports them itself."""
    log_sink: LogSink | None
    """Where task runs in other processes send their log records; None when they log here."""

    def submit(self, calls: Sequence[Call], last: bool = False) -> None:
        """Start ``calls``; ``last``: no later stage refers to them, and of their results
        only task-level ones (no map index) will be gathered."""
        ...

    def gather(self, keys: Sequence[str]) -> list[Any]: ...

    # after Ctrl-C (KeyboardInterrupt) in the driver
    def finished(self) -> dict[str, Any]:
        """The results of the calls that finished so far, by key."""
        ...

    def running(self) -> set[str]:
        """The keys of the calls running now."""
        ...

    def interrupt(self, grace: float) -> dict[str, Any]:
        """Stop the running calls; those still running after ``grace`` seconds, each with
        the Cancelled state that says why."""
        ...


class Executor(BaseModel):
    """Base of executor configs; ``start`` opens a session for one flow run."""

    model_config = ConfigDict(extra="forbid")
    type: str
    config_aliases: ClassVar[tuple[str, ...]] = ()
    """Other names a config's ``type`` may use for this model (besides the class name)."""

    def start(self, hooks: EngineHooks) -> AbstractContextManager[Any]:
        """A context manager giving a :class:`Session` that lives for one flow run."""
        raise NotImplementedError

    def describe(self) -> str:
        return type(self).__name__


def _executor_models() -> list[type[Executor]]:
    from jupyter_flows.executors.dask import DaskExecutor
    from jupyter_flows.executors.local import LocalExecutor
    from jupyter_flows.executors.local_dask import LocalDaskExecutor

    return [LocalExecutor, LocalDaskExecutor, DaskExecutor]


def _local_executor() -> Executor:
    from jupyter_flows.executors.local import LocalExecutor

    return LocalExecutor()


EXECUTORS: ConfigKind[Executor] = ConfigKind(
    "executor", Executor, ExecutorConfigError, _executor_models, default=_local_executor)
"""Executor configs: ``type`` tags, aliases (class names, ``config_aliases``), the loader."""


def executor_types() -> dict[str, type[Executor]]:
    """Each executor model by its ``type`` tag."""
    return dict(EXECUTORS.types)


def executor_from_config(value: Any) -> Executor:
    """An executor from a config: an Executor, a dict, JSON text or a type name; ``None``
    is ``LocalExecutor()``. Anything malformed raises ``ExecutorConfigError`` (an
    ``ExecutorError``) naming the model and field."""
    return EXECUTORS.load(value)


def without_unshippable(calls: Sequence[Call], where: str,
                        failed: Callable[[str], Any]) -> tuple[list[Call], bool]:
    """``calls`` with each task run call that cannot be pickled replaced by one returning
    ``failed(reason)``, naming the task and the reason; and whether any was replaced."""
    import cloudpickle

    problems: dict[int, str | None] = {}
    out: list[Call] = []
    for call in calls:
        if call.label is None:
            out.append(call)
            continue
        # a task run's function is its runner, or a bound method of it: check it once
        runner = getattr(call.fn, "__self__", call.fn)
        if id(runner) not in problems:
            try:
                cloudpickle.dumps(runner)
                problems[id(runner)] = None
            except Exception as exc:
                slug = call.label[0]
                problems[id(runner)] = (
                    f"task {slug!r} cannot be sent to {where}: {type(exc).__name__}: {exc}"
                    f" (a task's function, options and constant inputs must pickle with"
                    f" cloudpickle; run it on an in-process executor, or keep such objects"
                    f" out of the task)")
        problem = problems[id(runner)]
        out.append(call if problem is None else Call(call.key, failed, (problem,), call.label))
    return out, any(p is not None for p in problems.values())


def iter_refs(args: Sequence[Any]) -> Iterator[str]:
    for a in args:
        if type(a) is Ref:
            yield a.key
