"""States of task runs and flow runs.

    State
    ├── Pending ── Scheduled ── Retrying, Paused
    │          └── Submitted
    ├── Running ── Cancelling
    └── Finished
        ├── Success ── Cached, Mapped, Skipped
        ├── Failed ── TriggerFailed, TimedOut, Crashed
        └── Cancelled

Predicates follow the tree: a ``Cached`` state ``is_successful()``, a ``TimedOut`` state
``is_failed()``. States are small and picklable (they cross process boundaries); a failed
state keeps the user's exception as ``result`` and its traceback, without engine frames, as
text in ``traceback``.
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

__all__ = ["ALL_STATES", "Cached", "Cancelled", "Cancelling", "Crashed", "Failed", "Finished",
           "Mapped", "Paused", "Pending", "Retrying", "Running", "Scheduled", "Skipped", "State",
           "Submitted", "Success", "TimedOut", "TriggerFailed", "state_from_name"]


class State:
    """What happened to a run: a kind (the class), a message, a time and maybe a result."""

    __slots__ = ("cached_inputs", "context", "location", "map_states", "message", "result",
                 "run_count", "timestamp", "traceback")
    color = "#cccccc"

    def __init__(self, message: str | None = None, result: Any = None, *,
                 timestamp: float | None = None, traceback: str | None = None,
                 run_count: int = 0) -> None:
        self.message = message
        self.result = result
        self.timestamp = time.time() if timestamp is None else timestamp
        self.traceback = traceback
        self.run_count = run_count
        self.map_states: list[State] | None = None
        self.location: str | None = None
        self.cached_inputs: dict[str, Any] | None = None
        self.context: dict[str, Any] | None = None

    # --------------------------------------------------------------- helpers
    @property
    def name(self) -> str:
        return type(self).__name__

    @property
    def datetime(self) -> datetime:
        return datetime.fromtimestamp(self.timestamp, tz=timezone.utc)

    def __repr__(self) -> str:
        msg = f": {self.message!r}" if self.message else ""
        return f"<{self.name}{msg}>"

    def __getstate__(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in State.__slots__}

    def __setstate__(self, data: dict[str, Any]) -> None:
        for k, v in data.items():
            setattr(self, k, v)

    def without_result(self) -> State:
        """A copy without the result, for sending across a network to observers."""
        new = object.__new__(type(self))
        for k in State.__slots__:
            setattr(new, k, getattr(self, k))
        new.result = None
        new.map_states = None
        return new

    # ------------------------------------------------------------ predicates
    def is_pending(self) -> bool:
        return isinstance(self, Pending)

    def is_scheduled(self) -> bool:
        return isinstance(self, Scheduled)

    def is_submitted(self) -> bool:
        return isinstance(self, Submitted)

    def is_paused(self) -> bool:
        return isinstance(self, Paused)

    def is_retrying(self) -> bool:
        return isinstance(self, Retrying)

    def is_running(self) -> bool:
        return isinstance(self, Running)

    def is_finished(self) -> bool:
        return isinstance(self, Finished)

    def is_successful(self) -> bool:
        return isinstance(self, Success)

    def is_failed(self) -> bool:
        return isinstance(self, Failed)

    def is_cached(self) -> bool:
        return isinstance(self, Cached)

    def is_mapped(self) -> bool:
        return isinstance(self, Mapped)

    def is_skipped(self) -> bool:
        return isinstance(self, Skipped)

    def is_timed_out(self) -> bool:
        return isinstance(self, TimedOut)

    def is_crashed(self) -> bool:
        return isinstance(self, Crashed)

    def is_cancelled(self) -> bool:
        return isinstance(self, Cancelled)

    def is_cancelling(self) -> bool:
        return isinstance(self, Cancelling)


class Pending(State):
    """Not started: waiting for upstream tasks or a worker."""

    __slots__ = ()
    color = "#d9d9d9"


class Scheduled(Pending):
    """Waiting for a start time."""

    __slots__ = ()
    color = "#ffe08a"


class Retrying(Scheduled):
    """Failed an attempt and will try again after its retry delay."""

    __slots__ = ()
    color = "#ffb347"


class Paused(Scheduled):
    """Waiting for a person to approve it (``manual_only`` trigger)."""

    __slots__ = ()
    color = "#d1b3ff"


class Submitted(Pending):
    """Handed to an executor or agent, not yet running."""

    __slots__ = ()
    color = "#b3d9ff"


class Running(State):
    __slots__ = ()
    color = "#4da6ff"


class Cancelling(Running):
    """Still running, but asked to stop: a flow run whose cancel was requested, until its
    process ends it ``Cancelled`` (or its agent kills it after the grace period)."""

    __slots__ = ()
    color = "#8c8c8c"


class Finished(State):
    __slots__ = ()
    color = "#999999"


class Success(Finished):
    __slots__ = ()
    color = "#5cb85c"


class Cached(Success):
    """Success taken from an earlier run's result instead of running again."""

    __slots__ = ()
    color = "#8fd18f"


class Mapped(Success):
    """A mapped task: its children ran; ``map_states`` holds their states."""

    __slots__ = ()
    color = "#70c1b3"


class Skipped(Success):
    """Did not run on purpose (SKIP, a case branch not taken, an upstream skip)."""

    __slots__ = ()
    color = "#e6e6e6"


class Failed(Finished):
    __slots__ = ()
    color = "#d9534f"


class TriggerFailed(Failed):
    """Did not run because its trigger refused the upstream states."""

    __slots__ = ()
    color = "#f0a30a"


class TimedOut(Failed):
    """Ran longer than its timeout."""

    __slots__ = ()
    color = "#b30000"


class Crashed(Failed):
    """The process or host running it died without reporting a final state."""

    __slots__ = ()
    color = "#7a0000"


class Cancelled(Finished):
    __slots__ = ()
    color = "#666666"


ALL_STATES: dict[str, type[State]] = {
    cls.__name__: cls
    for cls in (Pending, Scheduled, Retrying, Paused, Submitted, Running, Cancelling, Finished,
                Success, Cached, Mapped, Skipped, Failed, TriggerFailed, TimedOut, Crashed,
                Cancelled)
}


def state_from_name(name: str, message: str | None = None, **fields: Any) -> State:
    """Rebuild a state from its class name (as stored by the backend)."""
    try:
        cls = ALL_STATES[name]
    except KeyError:
        raise ValueError(f"unknown state {name!r}; known: {', '.join(ALL_STATES)}") from None
    return cls(message, **fields)
