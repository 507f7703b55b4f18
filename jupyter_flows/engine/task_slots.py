"""Tag concurrency limits, as the task runner sees them: ``TaskSlots``.

A flow run on the backend hands its task runners a ``TaskSlots`` (the flow-run process's
:class:`jupyter_flows.flow_run.task_slots.BackendTaskSlots`); a local ``flow.run`` has none,
and tags limit nothing there. Before each attempt of a task with a limited tag the runner
takes one slot of each such tag (waiting while one is full) and gives them back when the
attempt ends, so a retry's delay holds no slot.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Protocol

#: Seconds between asks while a slot is full: the first, and the most.
FIRST_WAIT, LONGEST_WAIT = 0.1, 1.0


class TaskSlots(Protocol):
    """Slots of tag limits, shared by every task run of one flow run (it is pickled to
    the workers that run them)."""

    def limited(self, tags: frozenset[str]) -> list[str]:
        """Which of ``tags`` have a limit (sorted)."""
        ...

    def take(self, task_slug: str, map_index: int | None, tags: list[str]) -> str | None:
        """Take one slot of each of ``tags``, all or none: None when taken, else why not."""
        ...

    def release(self, task_slug: str, map_index: int | None) -> None:
        """Give back the task run's slots."""
        ...


@contextmanager
def holding(slots: TaskSlots | None, task_slug: str, map_index: int | None,
            tags: frozenset[str], on_wait: Callable[[str], None]) -> Iterator[None]:
    """Hold the task run's slots for the block; ``on_wait(reason)`` is called once when the
    first ask is refused (the runner reports it as the task run's state message)."""
    limited = slots.limited(tags) if slots is not None and tags else []
    if not limited:
        yield
        return
    assert slots is not None
    wait, told = FIRST_WAIT, False
    while (reason := slots.take(task_slug, map_index, limited)) is not None:
        if not told:
            on_wait(reason)
            told = True
        time.sleep(wait)
        wait = min(wait * 2, LONGEST_WAIT)
    try:
        yield
    finally:
        slots.release(task_slug, map_index)
