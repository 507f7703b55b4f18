"""Tasks: units of work with their run options, and the ``@task`` decorator.

A ``Task`` is responsible for:
- holding the function to run and the options that shape its runs (retries, timeout,
  trigger, caching, checkpointing, logging);
- binding itself into the active flow when called, which copies it, so one ``@task``
  function can appear many times in a flow (``inc(1)``, ``inc(2)``);
- nothing about running itself: the engine's task runner does that.
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar, overload

from jupyter_flows.core import building
from jupyter_flows.core.edges import flatten, unmapped
from jupyter_flows.core.triggers import Trigger, all_successful
from jupyter_flows.errors import BindError, FlowContextError

if TYPE_CHECKING:
    from jupyter_flows.core.flow import Flow

StateHandler = Callable[[Any, Any, Any], Any]
"""``handler(task, old_state, new_state) -> new_state | None``."""


def _seconds(value: float | timedelta | None, what: str) -> float | None:
    if value is None:
        return None
    seconds = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if seconds < 0:
        raise ValueError(f"{what} must not be negative, got {value!r}")
    return seconds


class Task:
    """A unit of work in a flow. Subclass and override :meth:`run`, or use ``@task``."""

    def __init__(
        self,
        name: str | None = None,
        *,
        slug: str | None = None,
        tags: Iterable[str] = (),
        max_retries: int = 0,
        retry_delay: float | timedelta = 0,
        retry_on: type[BaseException] | Sequence[type[BaseException]] | None = None,
        timeout: float | timedelta | None = None,
        trigger: Trigger | None = None,
        skip_on_upstream_skip: bool = True,
        cache_for: float | timedelta | None = None,
        cache_validator: Callable[..., bool] | None = None,
        cache_key: str | None = None,
        checkpoint: bool | None = None,
        result: Any = None,
        target: str | Callable[..., str] | None = None,
        nout: int | None = None,
        state_handlers: Sequence[StateHandler] = (),
        log_stdout: bool = False,
        task_run_name: str | Callable[..., str] | None = None,
    ) -> None:
        self.name = name or type(self).__name__
        self.slug = slug
        self.tags = frozenset(tags)
        if max_retries < 0:
            raise ValueError(f"task {self.name!r}: max_retries must be >= 0, got {max_retries}")
        self.max_retries = max_retries
        self.retry_delay = _seconds(retry_delay, f"task {self.name!r}: retry_delay") or 0.0
        if isinstance(retry_on, type):
            retry_on = (retry_on,)
        self.retry_on: tuple[type[BaseException], ...] = tuple(retry_on or (Exception,))
        self.timeout = _seconds(timeout, f"task {self.name!r}: timeout")
        if self.timeout == 0:
            raise ValueError(f"task {self.name!r}: timeout must be positive")
        self.trigger: Trigger = trigger or all_successful
        self.skip_on_upstream_skip = skip_on_upstream_skip
        self.cache_for = _seconds(cache_for, f"task {self.name!r}: cache_for")
        self.cache_validator = cache_validator
        self.cache_key = cache_key
        self.checkpoint = checkpoint
        self.result = result
        self.target = target
        if target is not None and checkpoint is False:
            raise ValueError(f"task {self.name!r}: a target needs checkpoint enabled")
        if nout is not None and nout < 1:
            raise ValueError(f"task {self.name!r}: nout must be >= 1, got {nout}")
        self.nout = nout
        self.state_handlers = list(state_handlers)
        self.log_stdout = log_stdout
        self.task_run_name = task_run_name
        self._signature = inspect.signature(self.run)
        for p in self._signature.parameters.values():
            if p.kind is p.VAR_POSITIONAL:
                raise BindError(
                    f"task {self.name!r}: *{p.name} is not supported; take a list argument instead"
                )

    # ----------------------------------------------------------------- running
    def run(self, *args: Any, **kwargs: Any) -> Any:
        """The work itself; subclasses override this."""
        raise NotImplementedError(f"task {self.name!r} has no run() method")

    @property
    def input_names(self) -> list[str]:
        return [p.name for p in self._signature.parameters.values() if p.kind is not p.VAR_KEYWORD]

    @property
    def accepts_any_keyword(self) -> bool:
        return any(p.kind is p.VAR_KEYWORD for p in self._signature.parameters.values())

    # ----------------------------------------------------------------- binding
    def copy(self, **changes: Any) -> Task:
        """A shallow copy with a fresh slug, optionally with changed options."""
        new = copy.copy(self)
        new.slug = changes.pop("slug", None)
        for key, value in changes.items():
            if not hasattr(new, key):
                raise TypeError(f"task {self.name!r} has no option {key!r}")
            setattr(new, key, value)
        return new

    def __call__(
        self,
        *args: Any,
        upstream_tasks: Iterable[Any] | None = None,
        flow: Flow | None = None,
        task_args: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Task:
        """Bind a copy of this task into the active flow, with these inputs."""
        new = self.copy(**(task_args or {}))
        return new.bind(*args, upstream_tasks=upstream_tasks, flow=flow, **kwargs)

    def map(
        self,
        *args: Any,
        upstream_tasks: Iterable[Any] | None = None,
        flow: Flow | None = None,
        task_args: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Task:
        """Bind a copy that runs once per element of its inputs (zipped); see ``unmapped``."""
        new = self.copy(**(task_args or {}))
        return new.bind(*args, upstream_tasks=upstream_tasks, flow=flow, mapped=True, **kwargs)

    def bind(
        self,
        *args: Any,
        upstream_tasks: Iterable[Any] | None = None,
        flow: Flow | None = None,
        mapped: bool = False,
        **kwargs: Any,
    ) -> Task:
        """Add this very task to ``flow`` with data edges for its inputs."""
        flow = flow or building.active_flow()
        if flow is None:
            raise FlowContextError(
                f"task {self.name!r} was called outside a flow. Call it inside `with Flow(...):`,"
                f" or call {self.name}.run(...) to run its function directly."
            )
        try:
            bound = self._signature.bind_partial(*args, **kwargs)
        except TypeError as exc:
            raise BindError(f"task {self.name!r}: {exc}") from None
        flow.add_task(self)
        for key, value in bound.arguments.items():
            if self._signature.parameters[key].kind is inspect.Parameter.VAR_KEYWORD:
                for sub_key, sub_value in value.items():
                    flow.bind_input(self, sub_key, sub_value, mapped=mapped)
            else:
                flow.bind_input(self, key, value, mapped=mapped)
        for upstream in upstream_tasks or ():
            flow.add_edge(as_task(upstream, flow), self, mapped=mapped)
        return self

    def set_upstream(self, task: Task, key: str | None = None, mapped: bool = False,
                     flow: Flow | None = None) -> None:
        """Make ``task`` run before this one (and feed argument ``key`` if given)."""
        flow = flow or building.active_flow()
        if flow is None:
            raise FlowContextError(f"task {self.name!r}: set_upstream needs a flow")
        flow.add_edge(task, self, key=key, mapped=mapped)

    def set_downstream(self, task: Task, key: str | None = None, mapped: bool = False,
                       flow: Flow | None = None) -> None:
        """Make this task run before ``task`` (and feed its argument ``key`` if given)."""
        flow = flow or building.active_flow()
        if flow is None:
            raise FlowContextError(f"task {self.name!r}: set_downstream needs a flow")
        flow.add_edge(self, task, key=key, mapped=mapped)

    # ------------------------------------------------------------ unpacking
    def __getitem__(self, key: Any) -> Task:
        return GetItem(name=f"{self.name}[{key!r}]")(self, key)

    def __iter__(self) -> Iterator[Task]:
        if self.nout is None:
            raise TypeError(
                f"task {self.name!r} is not iterable; give it nout=N to unpack N results"
            )
        return (self[i] for i in range(self.nout))

    def __repr__(self) -> str:
        return f"<Task: {self.slug or self.name}>"


class FunctionTask(Task):
    """A task whose work is a plain function; what ``@task`` makes."""

    def __init__(self, fn: Callable[..., Any], name: str | None = None, **options: Any) -> None:
        if not callable(fn):
            raise TypeError(f"@task needs a function, got {fn!r}")
        self.fn = fn
        self.run = fn  # type: ignore[method-assign]
        self.__doc__ = fn.__doc__
        self.__wrapped__ = fn
        super().__init__(name=name or getattr(fn, "__name__", "task"), **options)


class Constant(Task):
    """A fixed value in the graph; made for constants that are mapped over."""

    def __init__(self, value: Any, name: str | None = None) -> None:
        self.value = value
        super().__init__(name=name or f"Constant[{type(value).__name__}]")

    def run(self) -> Any:
        return self.value


class GetItem(Task):
    """``task[key]``: one element of another task's result."""

    def run(self, task_result: Any, key: Any) -> Any:
        return task_result[key]


class Collection(Task):
    """Builds a list, tuple, set or dict from the results of the tasks inside a literal."""

    def __init__(self, kind: type, keys: Sequence[Any] | None = None) -> None:
        self.kind = kind
        self.keys = list(keys) if keys is not None else None
        super().__init__(name=kind.__name__)

    def run(self, **items: Any) -> Any:
        values = [items[f"item_{i}"] for i in range(len(items))]
        if self.kind is dict:
            return dict(zip(self.keys or [], values))
        return self.kind(values)


def as_task(value: Any, flow: Flow) -> Task:
    """A task producing ``value``: tasks as they are, literals holding tasks as a Collection."""
    if isinstance(value, Task):
        return value
    if isinstance(value, (unmapped, flatten)):
        raise BindError("unmapped() and flatten() only make sense as arguments of task.map()")
    if isinstance(value, (list, tuple, set)) and any(isinstance(v, Task) for v in value):
        items = list(value)
        return Collection(type(value)).bind(
            flow=flow, **{f"item_{i}": v for i, v in enumerate(items)}
        )
    if isinstance(value, dict) and any(isinstance(v, Task) for v in value.values()):
        return Collection(dict, keys=list(value)).bind(
            flow=flow, **{f"item_{i}": v for i, v in enumerate(value.values())}
        )
    return Constant(value).bind(flow=flow)


def holds_task(value: Any) -> bool:
    """Whether ``value`` is a task or a literal container with a task directly inside."""
    if isinstance(value, Task):
        return True
    if isinstance(value, (list, tuple, set)):
        return any(isinstance(v, Task) for v in value)
    if isinstance(value, dict):
        return any(isinstance(v, Task) for v in value.values())
    return False


F = TypeVar("F", bound=Callable[..., Any])


@overload
def task(fn: Callable[..., Any], /) -> FunctionTask: ...


@overload
def task(
    fn: None = None, /, **options: Any
) -> Callable[[Callable[..., Any]], FunctionTask]: ...


def task(
    fn: Callable[..., Any] | None = None, /, **options: Any
) -> FunctionTask | Callable[[Callable[..., Any]], FunctionTask]:
    """Turn a function into a task: ``@task`` or ``@task(max_retries=3, retry_delay=1)``."""
    if fn is not None:
        return FunctionTask(fn, **options)

    def decorator(f: Callable[..., Any]) -> FunctionTask:
        return FunctionTask(f, **options)

    return decorator
