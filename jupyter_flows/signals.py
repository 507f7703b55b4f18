"""Signals: exceptions user code raises inside a task to choose the task's next state.

``raise FAIL("bad row")`` ends the task Failed (no retries), ``SKIP`` ends it Skipped,
``RETRY`` asks for another attempt, ``SUCCESS`` ends it early with an optional result,
``LOOP(result=...)`` runs the task again with that result in its context, ``PAUSE`` waits
for approval, ``TRIGGERFAIL`` (also raised by triggers) ends it TriggerFailed and
``VALIDATIONFAIL`` Failed. They are exceptions so they work from any depth of the task's
own call stack. ``jupyter_flows.engine.signals`` is the same module under Prefect's path.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FAIL", "LOOP", "PAUSE", "RETRY", "SKIP", "SUCCESS", "TRIGGERFAIL", "VALIDATIONFAIL",
           "Signal"]


class Signal(Exception):
    """Base of the signals; ``result`` becomes the resulting state's result."""

    def __init__(self, message: str | None = None, result: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.result = result


class FAIL(Signal):
    """End the task Failed, without retrying."""


class TRIGGERFAIL(FAIL):
    """A trigger's way to refuse the upstream states: the task ends TriggerFailed."""


class VALIDATIONFAIL(FAIL):
    """The task's inputs or outputs did not validate: the task ends Failed."""


class SKIP(Signal):
    """End the task Skipped; downstream tasks skip too unless they opt out."""


class RETRY(Signal):
    """Retry the task after its ``retry_delay``, even beyond ``max_retries``."""


class SUCCESS(Signal):
    """End the task Success now, with ``result``."""


class PAUSE(Signal):
    """Stop before running: the task waits for manual approval (``manual_only`` trigger).

    Raised by task code, the task ends Paused; when the run is resumed the whole task runs
    again with ``resume`` set in its context (see ``pause_task``)."""


class LOOP(Signal):
    """Run the task again at once: ``result`` becomes ``task_loop_result`` in the next
    iteration's context and ``task_loop_count`` grows by one; returning ends the loop."""
