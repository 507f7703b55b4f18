"""The rules a task's options and ``run`` signature must follow, checked when it is defined.

Prefect 1.x checked these at definition too; a mistake found here names the task and the
rule instead of surfacing as a raw TypeError in the middle of a run.
"""

from __future__ import annotations

import inspect
import typing
from collections.abc import Callable, Iterable, Sequence
from datetime import timedelta
from typing import Any

from jupyter_flows.errors import BindError, TaskDefinitionError

RESERVED_ARGUMENTS = ("upstream_tasks", "mapped", "task_args", "flow")
"""Keywords of ``Task.__call__``/``map``; a ``run`` taking one of them could never get it."""


def check_signature(name: str, signature: inspect.Signature) -> None:
    for p in signature.parameters.values():
        if p.kind is p.VAR_POSITIONAL:
            raise BindError(
                f"task {name!r}: *{p.name} is not supported; take a list argument instead"
            )
    reserved = [p for p in signature.parameters if p in RESERVED_ARGUMENTS]
    if reserved:
        raise TaskDefinitionError(
            f"task {name!r}: argument name(s) {', '.join(map(repr, reserved))} are reserved"
            f" (a task call takes {', '.join(RESERVED_ARGUMENTS)} itself); rename them"
        )


def check_tags(name: str, tags: Iterable[str] | None) -> frozenset[str]:
    if tags is None:
        return frozenset()
    if isinstance(tags, str):
        raise TaskDefinitionError(
            f"task {name!r}: tags must be a collection of strings, not one string;"
            f" write tags=[{tags!r}]"
        )
    tags = list(tags)
    bad = [t for t in tags if not isinstance(t, str)]
    if bad:
        raise TaskDefinitionError(f"task {name!r}: tags must be strings, got {bad[0]!r}")
    return frozenset(tags)


def check_retries(name: str, max_retries: Any) -> int:
    if max_retries is None:  # Prefect's "use the default", which is no retries
        return 0
    if isinstance(max_retries, bool) or not isinstance(max_retries, int):
        raise TaskDefinitionError(
            f"task {name!r}: max_retries must be a whole number, got {max_retries!r}"
        )
    if max_retries < 0:
        raise TaskDefinitionError(f"task {name!r}: max_retries must be >= 0, got {max_retries}")
    return max_retries


def check_retry_on(name: str, retry_on: Any) -> tuple[type[BaseException], ...]:
    if retry_on is None:
        return (Exception,)
    values = [retry_on] if isinstance(retry_on, type) else retry_on
    if isinstance(values, str) or not isinstance(values, Iterable):
        values = [values]
    values = list(values)
    for value in values:
        if not (isinstance(value, type) and issubclass(value, BaseException)):
            hint = f" (did you mean {value}, the class?)" if isinstance(value, str) else ""
            raise TaskDefinitionError(
                f"task {name!r}: retry_on must be exception classes like KeyError or"
                f" [IOError, TimeoutError], got {value!r}{hint}"
            )
    return tuple(values) or (Exception,)


def seconds(value: float | timedelta | None, what: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | timedelta):
        raise TaskDefinitionError(
            f"{what} must be a number of seconds or a timedelta, got {value!r}"
        )
    secs = value.total_seconds() if isinstance(value, timedelta) else float(value)
    if secs < 0:
        raise TaskDefinitionError(f"{what} must not be negative, got {value!r}")
    return secs


def check_handlers(name: str, handlers: Sequence[Any] | None) -> list[Any]:
    handlers = list(handlers or ())
    for handler in handlers:
        if not callable(handler):
            raise TaskDefinitionError(
                f"task {name!r}: state_handlers must be callables"
                f" handler(task, old_state, new_state), got {handler!r}"
            )
    return handlers


def inferred_nout(run: Callable[..., Any]) -> int | None:
    """``nout`` from a ``-> tuple[int, str]`` annotation, as Prefect 1.x inferred it."""
    try:
        hints = typing.get_type_hints(run)
    except Exception:  # unresolvable forward references: no inference
        return None
    ret = hints.get("return")
    if typing.get_origin(ret) is not tuple:
        return None
    args = typing.get_args(ret)
    if not args or (len(args) == 2 and args[1] is Ellipsis):
        return None
    if args == ((),):
        return 0
    return len(args)


def failure_callback(on_failure: Callable[[Any, Any], Any]) -> Callable[[Any, Any, Any], None]:
    """A state handler calling ``on_failure(task, state)`` when the task enters a failure."""

    def handler(task: Any, old: Any, new: Any) -> None:
        if new.is_failed():
            on_failure(task, new)

    handler.__name__ = f"on_failure({getattr(on_failure, '__name__', on_failure)!s})"
    return handler
