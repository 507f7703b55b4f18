"""The executor contract: a JSON-able config that starts a session running batches of calls.

The flow runner hands a session a *stage*: a list of ``Call(key, fn, args)`` where an
argument may be a ``Ref`` to the key of any earlier call. A session runs them the way its
engine does best (in order in process, as one dask graph on a local scheduler, as one graph
sent to a distributed scheduler) and later ``gather``s the results the runner asks for.
Data moves between calls inside the engine; only what is gathered comes back.

Executor configs are pydantic models with a ``type`` discriminator, so they can be stored
by the backend, rendered as forms, and overridden per run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict

from jupyter_flows.configs import ConfigKind
from jupyter_flows.errors import ExecutorConfigError

if TYPE_CHECKING:
    from jupyter_flows.engine.logs import LogSink
    from jupyter_flows.engine.states import State

EventHandler = Callable[[str, "int | None", "State"], None]


class Ref:
    """A reference, inside a call's arguments, to the result of the call with ``key``."""

    __slots__ = ("key",)

    def __init__(self, key: str) -> None:
        self.key = key

    def __repr__(self) -> str:
        return f"Ref({self.key!r})"


@dataclass(slots=True)
class Call:
    """One function call of a stage; ``label`` = (task slug, map index) for task runs."""

    key: str
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    label: tuple[str, int | None] | None = None


class ExecutionError:
    """Stands in for a result whose call raised inside the executor (e.g. a worker died)."""

    __slots__ = ("exception",)

    def __init__(self, exception: BaseException) -> None:
        self.exception = exception


class Session(Protocol):
    """A started executor, living for one flow run."""

    portable: bool
    """Whether results cross process boundaries (and so must pickle)."""
    sink: EventHandler | None
    """What task runners call with state changes; None if the session reports them itself."""
    log_sink: LogSink | None
    """Where task runs in other processes send their log records; None when they log here."""

    def submit(self, calls: Sequence[Call]) -> None: ...

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

    def start(self, on_event: EventHandler | None = None) -> AbstractContextManager[Any]:
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


def _runner_of(fn: Any) -> Any:
    """The task runner behind a call (a runner, or its bound ``collect``), else None."""
    from jupyter_flows.engine.task_runner import TaskRunner

    if isinstance(fn, TaskRunner):
        return fn
    owner = getattr(fn, "__self__", None)
    return owner if isinstance(owner, TaskRunner) else None


def _failed_to_ship(message: str) -> State:
    from jupyter_flows.engine.states import Failed

    return Failed(message)


def without_unshippable(calls: Sequence[Call], where: str) -> tuple[list[Call], bool]:
    """``calls`` with each call whose task cannot be pickled replaced by one returning a
    Failed state that names the task and the reason; and whether any was replaced."""
    import cloudpickle

    problems: dict[int, str | None] = {}
    out: list[Call] = []
    for call in calls:
        runner = _runner_of(call.fn)
        if runner is None:
            out.append(call)
            continue
        if id(runner) not in problems:
            try:
                cloudpickle.dumps(runner)
                problems[id(runner)] = None
            except Exception as exc:
                slug = runner.task.slug or runner.task.name
                problems[id(runner)] = (
                    f"task {slug!r} cannot be sent to {where}: {type(exc).__name__}: {exc}"
                    f" (a task's function, options and constant inputs must pickle with"
                    f" cloudpickle; run it on an in-process executor, or keep such objects"
                    f" out of the task)")
        problem = problems[id(runner)]
        out.append(call if problem is None else
                   Call(call.key, _failed_to_ship, (problem,), call.label))
    return out, any(p is not None for p in problems.values())


def iter_refs(args: Sequence[Any]) -> Iterator[str]:
    for a in args:
        if type(a) is Ref:
            yield a.key
