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
import logging
import typing
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar, overload

from jupyter_flows.core import building
from jupyter_flows.core import task_checks as checks
from jupyter_flows.core.edges import flatten, unmapped
from jupyter_flows.core.edges import mapped as mapped_marker
from jupyter_flows.core.operators import TaskOperators
from jupyter_flows.core.triggers import Trigger, all_successful
from jupyter_flows.errors import BindError, FlowContextError, TaskDefinitionError

if TYPE_CHECKING:
    from jupyter_flows.core.flow import Flow

StateHandler = Callable[[Any, Any, Any], Any]
"""``handler(task, old_state, new_state) -> new_state | None``."""


class Task(TaskOperators):
    """A unit of work in a flow. Subclass and override :meth:`run`, or use ``@task``."""

    def __init__(
        self,
        name: str | None = None,
        slug: str | None = None,
        tags: Iterable[str] | None = None,
        max_retries: int | None = None,
        retry_delay: float | timedelta | None = None,
        retry_on: type[BaseException] | Sequence[type[BaseException]] | None = None,
        timeout: float | timedelta | None = None,
        trigger: Trigger | None = None,
        skip_on_upstream_skip: bool = True,
        cache_for: float | timedelta | None = None,
        cache_validator: Callable[..., bool] | None = None,
        cache_key: str | None = None,
        checkpoint: bool | None = None,
        state_handlers: Sequence[StateHandler] | None = None,
        on_failure: Callable[[Any, Any], Any] | None = None,
        log_stdout: bool = False,
        result: Any = None,
        target: str | Callable[..., str] | None = None,
        task_run_name: str | Callable[..., str] | None = None,
        nout: int | None = None,
    ) -> None:
        self.name = name or type(self).__name__
        self.slug = slug
        self._signature = inspect.signature(self.run)
        checks.check_signature(self.name, self._signature)
        self.tags = checks.check_tags(self.name, tags)
        self.max_retries = checks.check_retries(self.name, max_retries)
        self.retry_delay = checks.seconds(retry_delay, f"task {self.name!r}: retry_delay") or 0.0
        self.retry_on = checks.check_retry_on(self.name, retry_on)
        self.timeout = checks.seconds(timeout, f"task {self.name!r}: timeout")
        if self.timeout == 0:
            raise TaskDefinitionError(f"task {self.name!r}: timeout must be positive")
        if trigger is not None and not callable(trigger):
            raise TaskDefinitionError(
                f"task {self.name!r}: trigger must be a function of the upstream states,"
                f" got {trigger!r}")
        self.trigger: Trigger = trigger or all_successful
        self.skip_on_upstream_skip = skip_on_upstream_skip
        self.cache_for = checks.seconds(cache_for, f"task {self.name!r}: cache_for")
        self.cache_validator = cache_validator
        self.cache_key = cache_key
        self.checkpoint = checkpoint
        self.result = result
        self.target = target
        if target is not None and checkpoint is False:
            raise TaskDefinitionError(f"task {self.name!r}: a target needs checkpoint enabled")
        if nout is None:
            nout = checks.inferred_nout(self.run)
        elif isinstance(nout, bool) or not isinstance(nout, int) or nout < 1:
            raise TaskDefinitionError(f"task {self.name!r}: nout must be >= 1, got {nout!r}")
        self.nout = nout
        self.state_handlers = checks.check_handlers(self.name, state_handlers)
        if on_failure is not None:
            self.state_handlers.append(checks.failure_callback(on_failure))
        self.log_stdout = log_stdout
        self.task_run_name = task_run_name

    # ----------------------------------------------------------------- running
    if TYPE_CHECKING:  # subclasses take whatever inputs they need
        def run(self, *args: Any, **kwargs: Any) -> Any: ...
    else:
        def run(self) -> Any:
            """The work itself; subclasses override this (with the inputs they take)."""
            raise NotImplementedError(f"task {self.name!r} has no run() method")

    @property
    def logger(self) -> logging.Logger | logging.LoggerAdapter[Any]:
        """This task run's logger while it runs (as ``get_logger()``), else one named after it."""
        from jupyter_flows.core.context import get_run_context

        ctx = get_run_context()
        if ctx is not None and ctx.task_slug == (self.slug or self.name):
            return ctx.logger
        return logging.getLogger(f"jupyter_flows.task.{self.name}")

    @property
    def input_names(self) -> list[str]:
        return [p.name for p in self._signature.parameters.values() if p.kind is not p.VAR_KEYWORD]

    @property
    def accepts_any_keyword(self) -> bool:
        return any(p.kind is p.VAR_KEYWORD for p in self._signature.parameters.values())

    def inputs(self) -> dict[str, dict[str, Any]]:
        """Each input of ``run``: its ``type`` (annotation or Any), ``required``, ``default``."""
        hints = _type_hints(self.run)
        described: dict[str, dict[str, Any]] = {}
        for name, p in self._signature.parameters.items():
            if p.kind is p.VAR_KEYWORD:
                continue
            required = p.default is inspect.Parameter.empty
            annotation = hints.get(name, p.annotation)
            described[name] = {
                "type": Any if annotation is inspect.Parameter.empty else annotation,
                "required": required, "default": None if required else p.default,
            }
        return described

    def outputs(self) -> Any:
        """The return annotation of ``run`` (Any when there is none)."""
        annotation = _type_hints(self.run).get("return", self._signature.return_annotation)
        return Any if annotation is inspect.Signature.empty else annotation

    # ----------------------------------------------------------------- binding
    def copy(self, **changes: Any) -> Task:
        """A shallow copy with a fresh slug, optionally with changed options.

        Given ``tags`` are added to the task's own, as in Prefect.
        """
        new = copy.copy(self)
        new.slug = changes.pop("slug", None)
        if "tags" in changes:
            changes["tags"] = self.tags | checks.check_tags(self.name, changes["tags"])
        for key, value in changes.items():
            if not hasattr(new, key):
                raise TypeError(f"task {self.name!r} has no option {key!r}")
            setattr(new, key, value)
        return new

    def __call__(
        self,
        *args: Any,
        mapped: bool = False,
        task_args: dict[str, Any] | None = None,
        upstream_tasks: Iterable[Any] | None = None,
        flow: Flow | None = None,
        **kwargs: Any,
    ) -> Task:
        """Bind a copy of this task into the active flow, with these inputs."""
        new = self.copy(**(task_args or {}))
        return new.bind(*args, mapped=mapped, upstream_tasks=upstream_tasks, flow=flow, **kwargs)

    def map(
        self,
        *args: Any,
        upstream_tasks: Iterable[Any] | None = None,
        flow: Flow | None = None,
        task_args: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> Task:
        """Bind a copy that runs once per element of its inputs (zipped); see ``unmapped``.

        The copy has no ``nout``: a mapped task's result is one list, not a tuple to unpack.
        """
        new = self.copy(**{"nout": None, **(task_args or {})})
        return new.bind(*args, upstream_tasks=upstream_tasks, flow=flow, mapped=True, **kwargs)

    def bind(
        self,
        *args: Any,
        mapped: bool = False,
        upstream_tasks: Iterable[Any] | None = None,
        flow: Flow | None = None,
        **kwargs: Any,
    ) -> Task:
        """Add this very task to ``flow`` with data edges for its inputs."""
        flow = flow if flow is not None else building.active_flow()
        if flow is None:
            raise FlowContextError(
                f"task {self.name!r} was called outside a flow. Call it inside `with Flow(...):`,"
                f" or call {self.name}.run(...) to run its function directly."
            )
        try:
            bound = self._signature.bind_partial(*args, **kwargs)
        except TypeError as exc:
            raise BindError(f"task {self.name!r}: {exc}") from None
        if not mapped and any(isinstance(v, mapped_marker) for v in bound.arguments.values()):
            # a call with mapped(...) arguments maps over those only
            mapped = True
            for key, value in bound.arguments.items():
                bound.arguments[key] = (value.value if isinstance(value, mapped_marker)
                                        else unmapped(value))
        flow.add_task(self)
        for key, value in bound.arguments.items():
            if self._signature.parameters[key].kind is inspect.Parameter.VAR_KEYWORD:
                for sub_key, sub_value in value.items():
                    flow.bind_input(self, sub_key, sub_value, mapped=mapped)
            else:
                flow.bind_input(self, key, value, mapped=mapped)
        for upstream in upstream_tasks or ():
            whole = isinstance(upstream, unmapped)
            flow.add_edge(as_task(upstream.value if whole else upstream, flow), self,
                          mapped=mapped and not whole)
        return self

    def set_dependencies(
        self,
        flow: Flow | None = None,
        upstream_tasks: Iterable[Any] | None = None,
        downstream_tasks: Iterable[Any] | None = None,
        keyword_tasks: dict[str, Any] | None = None,
        mapped: bool = False,
        validate: bool | None = None,
    ) -> Task:
        """``flow.set_dependencies(self, ...)`` on ``flow`` or the active flow."""
        flow = flow if flow is not None else building.active_flow()
        if flow is None:
            raise FlowContextError(f"task {self.name!r}: set_dependencies needs a flow")
        flow.set_dependencies(self, upstream_tasks or (), downstream_tasks or (),
                              keyword_tasks, mapped=mapped)
        return self

    def set_upstream(self, task: Any, flow: Flow | None = None, key: str | None = None,
                     mapped: bool = False) -> Task:
        """Make ``task`` run before this one (and feed argument ``key`` if given)."""
        flow = flow if flow is not None else building.active_flow()
        if flow is None:
            raise FlowContextError(f"task {self.name!r}: set_upstream needs a flow")
        flow.add_edge(as_task(task, flow), self, key=key, mapped=mapped)
        return self

    def set_downstream(self, task: Any, flow: Flow | None = None, key: str | None = None,
                       mapped: bool = False) -> Task:
        """Make this task run before ``task`` (and feed its argument ``key`` if given)."""
        flow = flow if flow is not None else building.active_flow()
        if flow is None:
            raise FlowContextError(f"task {self.name!r}: set_downstream needs a flow")
        flow.add_edge(self, as_task(task, flow), key=key, mapped=mapped)
        return self

    def pipe(self, task: Task, **kwargs: Any) -> Task:
        """``a.pipe(b, x=1)`` is ``b(a, x=1)``: chains read left to right."""
        return task(self, **kwargs)

    # ------------------------------------------------------------ unpacking
    def __iter__(self) -> Iterator[Task]:
        if self.nout is None:
            raise TypeError(
                f"task {self.name!r} is not iterable; give it nout=N (or a tuple return"
                f" annotation) to unpack N results; a mapped task's result is one list"
            )
        return (self[i] for i in range(self.nout))

    def __repr__(self) -> str:
        return f"<Task: {self.slug or self.name}>"


def _type_hints(fn: Callable[..., Any]) -> dict[str, Any]:
    """Annotations as types (they are strings under ``from __future__ import annotations``)."""
    try:
        return typing.get_type_hints(fn)
    except Exception:  # a name the annotations use is not importable here
        return {}


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
