"""What is being built right now: the active flow and the open ``case`` blocks.

Kept in one place, behind small accessors, so the rest of the code passes flows explicitly.
A ``ContextVar`` keeps notebooks, threads and asyncio tasks from seeing each other's flows.
"""

from __future__ import annotations

from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jupyter_flows.core.flow import Flow
    from jupyter_flows.core.task import Task

_active_flow: ContextVar[Flow | None] = ContextVar("jupyter_flows_active_flow", default=None)
_open_cases: ContextVar[tuple[Task, ...]] = ContextVar("jupyter_flows_open_cases", default=())


def active_flow() -> Flow | None:
    """The flow of the innermost ``with Flow(...)`` block, if any."""
    return _active_flow.get()


def enter_flow(flow: Flow) -> object:
    return _active_flow.set(flow)


def exit_flow(token: object) -> None:
    _active_flow.reset(token)  # type: ignore[arg-type]


def open_cases() -> tuple[Task, ...]:
    """The condition tasks of the ``case`` blocks the current code is inside, outermost first."""
    return _open_cases.get()


def push_case(condition_task: Task) -> object:
    return _open_cases.set((*_open_cases.get(), condition_task))


def push_cases(conditions: tuple[Task, ...]) -> object:
    """Replace the open cases (``apply_map`` builds its scratch flow outside them)."""
    return _open_cases.set(conditions)


def pop_case(token: object) -> None:
    _open_cases.reset(token)  # type: ignore[arg-type]
