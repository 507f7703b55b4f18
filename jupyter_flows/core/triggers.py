"""Triggers decide, from the upstream states, whether a task may run.

A trigger is ``fn(upstream_states: dict[Edge, State]) -> bool``, as in Prefect 1.x: it
returns True to run, and False or ``raise TRIGGERFAIL(...)`` make the task
``TriggerFailed``. The state of a mapped upstream is its ``Mapped`` parent; the built-in
triggers count its children one by one (``all_states``). ``manual_only`` raises
:class:`PAUSE`, and a trigger raising :class:`SKIP` makes the task ``Skipped``
(``not_all_skipped`` does when every upstream skipped). This module is also
``jupyter_flows.triggers``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

from jupyter_flows.errors import TaskDefinitionError
from jupyter_flows.signals import PAUSE, SKIP, TRIGGERFAIL

if TYPE_CHECKING:
    from jupyter_flows.core.edges import Edge
    from jupyter_flows.engine.states import State

UpstreamStates = Mapping["Edge", "State"]
Trigger = Callable[[UpstreamStates], bool]


def all_states(upstream_states: UpstreamStates | Iterable[State]) -> list[State]:
    """Every upstream state, with a mapped upstream's children in place of its parent."""
    values: Iterable[Any] = (upstream_states.values() if isinstance(upstream_states, Mapping)
                             else upstream_states)
    flat: list[State] = []
    for state in values:
        if state.map_states is not None and state.is_mapped():
            flat.extend(state.map_states)
        else:
            flat.append(state)
    return flat


def all_successful(upstream_states: UpstreamStates) -> bool:
    """Run when every upstream task succeeded (the default); skips count as successes."""
    if not all(s.is_successful() for s in all_states(upstream_states)):
        raise TRIGGERFAIL("some upstream tasks did not succeed")
    return True


def all_finished(upstream_states: UpstreamStates) -> bool:
    """Run when every upstream task finished, whatever the outcome."""
    if not all(s.is_finished() for s in all_states(upstream_states)):
        raise TRIGGERFAIL("some upstream tasks did not finish")
    return True


always_run = all_finished


def all_failed(upstream_states: UpstreamStates) -> bool:
    """Run only when every upstream task failed (a cleanup or alert task)."""
    if not all(s.is_failed() for s in all_states(upstream_states)):
        raise TRIGGERFAIL("some upstream tasks did not fail")
    return True


def any_successful(upstream_states: UpstreamStates) -> bool:
    """Run when at least one upstream task succeeded (or there are none)."""
    states = all_states(upstream_states)
    if states and not any(s.is_successful() for s in states):
        raise TRIGGERFAIL("no upstream task succeeded")
    return True


def any_failed(upstream_states: UpstreamStates) -> bool:
    """Run when at least one upstream task failed (or there are none)."""
    states = all_states(upstream_states)
    if states and not any(s.is_failed() for s in states):
        raise TRIGGERFAIL("no upstream task failed")
    return True


def not_all_skipped(upstream_states: UpstreamStates) -> bool:
    """Run when every upstream succeeded and at least one of them did not skip (``merge``).

    When every upstream skipped (no ``case`` branch ran) the task skips too, as in Prefect
    1.x: a flow whose branches all stayed closed has not failed.
    """
    states = all_states(upstream_states)
    if states and all(s.is_skipped() for s in states):
        raise SKIP("every upstream task was skipped")
    if not all(s.is_successful() for s in states):
        raise TRIGGERFAIL("some upstream tasks did not succeed")
    return True


def manual_only(upstream_states: UpstreamStates) -> bool:
    """Never run on its own: the task pauses until a run resumes it by name."""
    raise PAUSE("waiting for manual approval")


def _bounded_count(
    predicate_name: str, at_least: int | float | None, at_most: int | float | None
) -> Trigger:
    """A trigger counting upstream states for which ``predicate_name`` holds.

    A bound below 1 is a fraction of the upstream states, others are counts (Prefect's
    rule); with no upstream tasks at all the task runs.
    """
    if at_least is None and at_most is None:
        raise TaskDefinitionError(f"some_{predicate_name}: give at_least, at_most or both")

    def trigger(upstream_states: UpstreamStates) -> bool:
        states = all_states(upstream_states)
        if not states:
            return True
        total = len(states)
        hits = sum(getattr(s, f"is_{predicate_name}")() for s in states)

        def bound(b: int | float) -> float:
            return b * total if b < 1 else b

        low = bound(at_least) if at_least is not None else 0
        high = bound(at_most) if at_most is not None else total
        if not low <= hits <= high:
            raise TRIGGERFAIL(f"{hits} of {total} upstream states are {predicate_name}")
        return True

    trigger.__name__ = f"some_{predicate_name}(at_least={at_least}, at_most={at_most})"
    return trigger


def some_successful(
    at_least: int | float | None = None, at_most: int | float | None = None
) -> Trigger:
    """Run when the number (or fraction) of successful upstream tasks is within bounds."""
    return _bounded_count("successful", at_least, at_most)


def some_failed(at_least: int | float | None = None, at_most: int | float | None = None) -> Trigger:
    """Run when the number (or fraction) of failed upstream tasks is within bounds."""
    return _bounded_count("failed", at_least, at_most)
