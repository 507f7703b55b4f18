"""Signals: exceptions user code raises inside a task to choose the task's next state.

``raise FAIL("bad row")`` ends the task Failed (no retries), ``SKIP`` ends it Skipped,
``RETRY`` asks for another attempt, ``SUCCESS`` ends it early with an optional result.
They are exceptions so they work from any depth of the task's own call stack.
"""

from __future__ import annotations

from typing import Any


class Signal(Exception):
    """Base of the signals; ``result`` becomes the resulting state's result."""

    def __init__(self, message: str | None = None, result: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.result = result


class FAIL(Signal):
    """End the task Failed, without retrying."""


class SKIP(Signal):
    """End the task Skipped; downstream tasks skip too unless they opt out."""


class RETRY(Signal):
    """Retry the task after its ``retry_delay``, even beyond ``max_retries``."""


class SUCCESS(Signal):
    """End the task Success now, with ``result``."""


class PAUSE(Signal):
    """Stop before running: the task waits for manual approval (``manual_only`` trigger)."""
