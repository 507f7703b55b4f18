"""Triggers decide, from the upstream states, whether a task may run.

A trigger takes the upstream states (a mapped upstream counts once per child, as in
Prefect 1.x) and returns True to run; False makes the task ``TriggerFailed``.
``manual_only`` raises :class:`PAUSE` instead, and a trigger raising :class:`SKIP` makes the
task ``Skipped`` (``not_all_skipped`` does when every upstream skipped).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import TYPE_CHECKING

from jupyter_flows.signals import PAUSE, SKIP

if TYPE_CHECKING:
    from jupyter_flows.engine.states import State

Trigger = Callable[[Collection["State"]], bool]


def all_successful(upstream_states: Collection[State]) -> bool:
    """Run when every upstream task succeeded (the default)."""
    return all(s.is_successful() for s in upstream_states)


def all_finished(upstream_states: Collection[State]) -> bool:
    """Run when every upstream task finished, whatever the outcome."""
    return all(s.is_finished() for s in upstream_states)


always_run = all_finished


def all_failed(upstream_states: Collection[State]) -> bool:
    """Run only when every upstream task failed (a cleanup or alert task)."""
    return all(s.is_failed() for s in upstream_states)


def any_successful(upstream_states: Collection[State]) -> bool:
    """Run when at least one upstream task succeeded (or there are none)."""
    return not upstream_states or any(s.is_successful() for s in upstream_states)


def any_failed(upstream_states: Collection[State]) -> bool:
    """Run when at least one upstream task failed (or there are none)."""
    return not upstream_states or any(s.is_failed() for s in upstream_states)


def not_all_skipped(upstream_states: Collection[State]) -> bool:
    """Run when every upstream succeeded and at least one of them did not skip (``merge``).

    When every upstream skipped (no ``case`` branch ran) the task skips too, as in Prefect
    1.x: a flow whose branches all stayed closed has not failed.
    """
    if upstream_states and all(s.is_skipped() for s in upstream_states):
        raise SKIP("every upstream task was skipped")
    return all(s.is_successful() for s in upstream_states)


def manual_only(upstream_states: Collection[State]) -> bool:
    """Never run on its own: the task pauses until a run resumes it by name."""
    raise PAUSE("waiting for manual approval")


def _bounded_count(
    predicate_name: str, at_least: int | float | None, at_most: int | float | None
) -> Trigger:
    """A trigger counting upstream states for which ``predicate_name`` holds.

    Integers are counts; floats in [0, 1] are fractions of the upstream tasks.
    """
    if at_least is None and at_most is None:
        raise ValueError(f"some_{predicate_name}: give at_least, at_most or both")

    def trigger(upstream_states: Collection[State]) -> bool:
        total = len(upstream_states)
        hits = sum(getattr(s, f"is_{predicate_name}")() for s in upstream_states)

        def bound(b: int | float) -> float:
            return b * total if isinstance(b, float) else b

        if at_least is not None and hits < bound(at_least):
            return False
        return not (at_most is not None and hits > bound(at_most))

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
