"""Filters: which clock times a schedule keeps (Prefect 1.x's ``schedules.filters``).

Each filter is a small JSON-able model that is also a callable ``filter(dt) -> bool``, so
Prefect code works unchanged: ``is_weekday(dt)``, ``filters=[is_weekday]`` (uncalled), and
``between_times(time(9), time(17))`` (a factory that returns the filter). Filters read the
wall-clock time of the event in its clock's time zone; naive datetimes are UTC.
"""

from __future__ import annotations

import calendar
from datetime import datetime, time
from typing import Annotated, Literal

from pydantic import Field, model_validator

from jupyter_flows.schedules import _words
from jupyter_flows.schedules._model import ScheduleModel
from jupyter_flows.schedules._time import (
    ZonedDateTime,
    as_aware,
    format_datetime,
    instant,
    rule_error,
)

__all__ = [
    "AnyFilter", "AtTime", "BetweenDates", "BetweenDatetimes", "BetweenTimes", "Filter",
    "IsDayOfWeek", "IsMonthEnd", "IsMonthStart", "IsWeekday", "IsWeekend", "OnDate",
    "OnDatetime", "at_time", "between_dates", "between_datetimes", "between_times",
    "is_day_of_week", "is_month_end", "is_month_start", "is_weekday", "is_weekend",
    "on_date", "on_datetime",
]

Month = Annotated[int, Field(ge=1, le=12)]
Day = Annotated[int, Field(ge=1, le=31)]


class Filter(ScheduleModel):
    """The base of every filter: ``filter(dt)`` says whether the schedule keeps ``dt``."""

    def __call__(self, dt: datetime) -> bool:
        raise NotImplementedError

    def describe(self) -> str:
        """The filter in words: ``on weekdays``."""
        raise NotImplementedError


def _check_day(month: int, day: int, what: str) -> None:
    # a leap year, so Feb 29 is a day some years have
    if day > calendar.monthrange(2024, month)[1]:
        raise rule_error("month_day", f"{what}{_words.month_day(month, day)} does not exist")


class OnDatetime(Filter):
    """Exactly the moment ``dt``."""

    type: Literal["on_datetime"] = "on_datetime"
    dt: ZonedDateTime

    def __call__(self, dt: datetime) -> bool:
        return instant(dt) == instant(self.dt)

    def describe(self) -> str:
        return f"at {format_datetime(self.dt)}"


class OnDate(Filter):
    """On ``month``/``day`` of every year."""

    type: Literal["on_date"] = "on_date"
    month: Month
    day: Day

    @model_validator(mode="after")
    def _real_day(self) -> OnDate:
        _check_day(self.month, self.day, "")
        return self

    def __call__(self, dt: datetime) -> bool:
        return (dt.month, dt.day) == (self.month, self.day)

    def describe(self) -> str:
        return f"on {_words.month_day(self.month, self.day)}"


class AtTime(Filter):
    """At wall-clock time ``time`` of any day."""

    type: Literal["at_time"] = "at_time"
    time: time

    def __call__(self, dt: datetime) -> bool:
        return dt.time() == self.time.replace(tzinfo=None)

    def describe(self) -> str:
        return f"at {_words.clock_time(self.time)}"


class BetweenDatetimes(Filter):
    """From moment ``start`` to moment ``end``, both included."""

    type: Literal["between_datetimes"] = "between_datetimes"
    start: ZonedDateTime
    end: ZonedDateTime

    @model_validator(mode="after")
    def _ordered(self) -> BetweenDatetimes:
        if instant(self.end) < instant(self.start):
            raise rule_error("range", f"end {format_datetime(self.end)} is before start "
                             f"{format_datetime(self.start)}")
        return self

    def __call__(self, dt: datetime) -> bool:
        return instant(self.start) <= instant(dt) <= instant(self.end)

    def describe(self) -> str:
        return f"between {format_datetime(self.start)} and {format_datetime(self.end)}"


class BetweenDates(Filter):
    """From one month/day to another of every year, both included; a range whose end
    comes before its start runs over New Year (Dec 1 to Feb 28)."""

    type: Literal["between_dates"] = "between_dates"
    start_month: Month
    start_day: Day
    end_month: Month
    end_day: Day

    @model_validator(mode="after")
    def _real_days(self) -> BetweenDates:
        _check_day(self.start_month, self.start_day, "start ")
        _check_day(self.end_month, self.end_day, "end ")
        return self

    def __call__(self, dt: datetime) -> bool:
        start, end, day = ((self.start_month, self.start_day), (self.end_month, self.end_day),
                           (dt.month, dt.day))
        return start <= day <= end if start <= end else day >= start or day <= end

    def describe(self) -> str:
        return (f"between {_words.month_day(self.start_month, self.start_day)} and "
                f"{_words.month_day(self.end_month, self.end_day)}")


class BetweenTimes(Filter):
    """From wall-clock time ``start`` to ``end`` of any day, both included; a range whose
    end comes before its start runs over midnight (22:00 to 02:00)."""

    type: Literal["between_times"] = "between_times"
    start: time
    end: time

    def __call__(self, dt: datetime) -> bool:
        start, end, now = (self.start.replace(tzinfo=None), self.end.replace(tzinfo=None),
                           dt.time())
        return start <= now <= end if start <= end else now >= start or now <= end

    def describe(self) -> str:
        return f"between {_words.clock_time(self.start)} and {_words.clock_time(self.end)}"


class IsWeekday(Filter):
    """Monday to Friday."""

    type: Literal["is_weekday"] = "is_weekday"

    def __call__(self, dt: datetime) -> bool:
        return dt.weekday() < 5

    def describe(self) -> str:
        return "on weekdays"


class IsWeekend(Filter):
    """Saturday and Sunday."""

    type: Literal["is_weekend"] = "is_weekend"

    def __call__(self, dt: datetime) -> bool:
        return dt.weekday() >= 5

    def describe(self) -> str:
        return "on weekends"


class IsMonthStart(Filter):
    """The first day of a month."""

    type: Literal["is_month_start"] = "is_month_start"

    def __call__(self, dt: datetime) -> bool:
        return dt.day == 1

    def describe(self) -> str:
        return "on the first day of the month"


class IsMonthEnd(Filter):
    """The last day of a month (Feb 29 in a leap year)."""

    type: Literal["is_month_end"] = "is_month_end"

    def __call__(self, dt: datetime) -> bool:
        return dt.day == calendar.monthrange(dt.year, dt.month)[1]

    def describe(self) -> str:
        return "on the last day of the month"


class IsDayOfWeek(Filter):
    """One day of the week: 0 is Monday, 6 is Sunday (``datetime.weekday()``)."""

    type: Literal["is_day_of_week"] = "is_day_of_week"
    day_of_week: Annotated[int, Field(ge=0, le=6, description="0 = Monday ... 6 = Sunday")]

    def __call__(self, dt: datetime) -> bool:
        return dt.weekday() == self.day_of_week

    def describe(self) -> str:
        return f"on {_words.DAY_NAMES[self.day_of_week]}s"


# Prefect's names: filters that take no arguments are ready-made instances; the others are
# factories that return the filter.
is_weekday = IsWeekday()
is_weekend = IsWeekend()
is_month_start = IsMonthStart()
is_month_end = IsMonthEnd()


def on_datetime(dt: datetime) -> OnDatetime:
    """Keep exactly the moment ``dt``."""
    return OnDatetime(dt=as_aware(dt))


def on_date(month: int, day: int) -> OnDate:
    """Keep times on ``month``/``day`` of any year."""
    return OnDate(month=month, day=day)


def at_time(t: time) -> AtTime:
    """Keep times whose wall-clock time is ``t``."""
    return AtTime(time=t)


def between_datetimes(start: datetime, end: datetime) -> BetweenDatetimes:
    """Keep times from ``start`` to ``end``, both included."""
    return BetweenDatetimes(start=start, end=end)


def between_dates(start_month: int, start_day: int, end_month: int, end_day: int
                  ) -> BetweenDates:
    """Keep times between two days of the year, both included (may run over New Year)."""
    return BetweenDates(start_month=start_month, start_day=start_day, end_month=end_month,
                        end_day=end_day)


def between_times(start: time, end: time) -> BetweenTimes:
    """Keep times whose wall-clock time is from ``start`` to ``end`` (may run over midnight)."""
    return BetweenTimes(start=start, end=end)


def is_day_of_week(day_of_week: int) -> IsDayOfWeek:
    """Keep times on one day of the week (0 = Monday)."""
    return IsDayOfWeek(day_of_week=day_of_week)


AnyFilter = Annotated[
    OnDatetime | OnDate | AtTime | BetweenDatetimes | BetweenDates | BetweenTimes | IsWeekday
    | IsWeekend | IsMonthStart | IsMonthEnd | IsDayOfWeek,
    Field(discriminator="type"),
]
"""Any filter; a pydantic field type."""
