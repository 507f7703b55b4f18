"""Adjustments: how a schedule moves the times its filters keep (Prefect 1.x's
``schedules.adjustments``).

Like filters, adjustments are JSON-able models that are also callables ``adjust(dt) -> dt``:
``next_weekday`` is passed uncalled, ``add(timedelta(hours=1))`` returns the adjustment.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import Field

from jupyter_flows.schedules import _words
from jupyter_flows.schedules._model import ScheduleModel
from jupyter_flows.schedules._time import DAY, shift

__all__ = ["Add", "Adjustment", "AnyAdjustment", "NextWeekday", "add", "next_weekday"]


class Adjustment(ScheduleModel):
    """The base of every adjustment: ``adjustment(dt)`` is the time the run happens."""

    def __call__(self, dt: datetime) -> datetime:
        raise NotImplementedError

    def describe(self) -> str:
        """The adjustment in words: ``moved 1 hour later``."""
        raise NotImplementedError


class Add(Adjustment):
    """Move by ``interval``: a day or more in wall-clock time (06:00 stays 06:00 across
    daylight saving), less than that in elapsed time. Negative moves earlier."""

    type: Literal["add"] = "add"
    interval: timedelta = Field(description="How far to move (ISO 8601 duration in JSON).")

    def __call__(self, dt: datetime) -> datetime:
        return shift(dt, self.interval)

    def describe(self) -> str:
        if self.interval < timedelta(0):
            return f"moved {_words.duration(-self.interval)} earlier"
        return f"moved {_words.duration(self.interval)} later"


class NextWeekday(Adjustment):
    """A Saturday or Sunday moves to the Monday after, at the same wall-clock time."""

    type: Literal["next_weekday"] = "next_weekday"

    def __call__(self, dt: datetime) -> datetime:
        while dt.weekday() >= 5:
            dt = shift(dt, DAY)
        return dt

    def describe(self) -> str:
        return "moved to Monday when on a weekend"


next_weekday = NextWeekday()


def add(interval: timedelta) -> Add:
    """Move each time by ``interval``."""
    return Add(interval=interval)


AnyAdjustment = Annotated[Add | NextWeekday, Field(discriminator="type")]
"""Any adjustment; a pydantic field type."""
