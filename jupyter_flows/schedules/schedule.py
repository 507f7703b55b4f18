"""Schedule: clocks, then filters, then adjustments (Prefect 1.x's ``schedules.schedules``).

``schedule.next(n)`` merges the events of every clock in time order (an event that two
clocks emit alike comes once), keeps those that pass all ``filters``, at least one of
``or_filters`` (when there are any) and none of ``not_filters``, then applies the
``adjustments`` in order. As in Prefect, at most 10,000 clock events are looked at per
call, so filters that reject everything end the search instead of hanging it.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any, Literal, cast, overload

from pydantic import BeforeValidator, Field, field_validator

from jupyter_flows.configs import ConfigKind
from jupyter_flows.errors import ScheduleError
from jupyter_flows.schedules._model import ScheduleModel
from jupyter_flows.schedules._time import as_aware, instant, now_utc, rule_error
from jupyter_flows.schedules._words import join
from jupyter_flows.schedules.adjustments import Adjustment, AnyAdjustment
from jupyter_flows.schedules.clocks import (
    AnyClock,
    Clock,
    ClockEvent,
    CronClock,
    IntervalClock,
    RRuleClock,
)
from jupyter_flows.schedules.filters import AnyFilter, Filter

if TYPE_CHECKING:
    from dateutil.rrule import rrulebase

__all__ = ["MAX_CANDIDATES", "CronSchedule", "IntervalSchedule", "RRuleSchedule", "Schedule",
           "schedule_from_config"]

MAX_CANDIDATES = 10_000
"""Clock events one ``next`` call looks at, at most."""


def _refuse_plain_callables(kind: str, module: str) -> BeforeValidator:
    def check(value: Any) -> Any:
        if callable(value) and not isinstance(value, ScheduleModel):
            name = getattr(value, "__name__", type(value).__name__)
            raise rule_error(kind, f"{name!r} is a plain function, which cannot be stored as "
                             f"JSON; use one from jupyter_flows.schedules.{module}")
        return value

    return BeforeValidator(check)


FilterItem = Annotated[AnyFilter, _refuse_plain_callables("filter", "filters")]
AdjustmentItem = Annotated[AnyAdjustment, _refuse_plain_callables("adjustment", "adjustments")]


def _none_as_empty(value: Any) -> Any:
    return [] if value is None else value


class Schedule(ScheduleModel):
    """When a flow runs: one or more clocks, narrowed by filters, moved by adjustments."""

    type: Literal["schedule"] = "schedule"
    clocks: list[AnyClock] = Field(description="Where candidate times come from; at least "
                                   "one.")
    filters: Annotated[list[FilterItem], BeforeValidator(_none_as_empty)] = Field(
        default_factory=list, description="A time is kept only if all of these pass.")
    or_filters: Annotated[list[FilterItem], BeforeValidator(_none_as_empty)] = Field(
        default_factory=list, description="...and at least one of these (when any).")
    not_filters: Annotated[list[FilterItem], BeforeValidator(_none_as_empty)] = Field(
        default_factory=list, description="...and none of these.")
    adjustments: Annotated[list[AdjustmentItem], BeforeValidator(_none_as_empty)] = Field(
        default_factory=list, description="Applied in order to each time kept.")

    def __init__(self, clocks: Iterable[Clock] | None = None,
                 filters: Iterable[Filter] | None = None,
                 or_filters: Iterable[Filter] | None = None,
                 not_filters: Iterable[Filter] | None = None,
                 adjustments: Iterable[Adjustment] | None = None, **data: Any) -> None:
        given = {"clocks": clocks, "filters": filters, "or_filters": or_filters,
                 "not_filters": not_filters, "adjustments": adjustments}
        super().__init__(**{name: list(value) for name, value in given.items()
                            if value is not None}, **data)

    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @field_validator("clocks")
    @classmethod
    def _some_clock(cls, value: list[Clock]) -> list[Clock]:
        if not value:
            raise rule_error("clocks", "at least one clock is required")
        return value

    @overload
    def next(self, n: int, after: datetime | None = None,
             return_events: Literal[False] = False) -> list[datetime]: ...

    @overload
    def next(self, n: int, after: datetime | None = None, *,
             return_events: Literal[True]) -> list[ClockEvent]: ...

    def next(self, n: int, after: datetime | None = None,
             return_events: bool = False) -> list[datetime] | list[ClockEvent]:
        """The next ``n`` times strictly after ``after`` (default: now); with
        ``return_events``, the :class:`ClockEvent` s with their parameter defaults and labels.
        """
        if not isinstance(n, int) or n < 0:
            raise ScheduleError(f"Schedule.next: n must be a whole number >= 0, got {n!r}")
        after = now_utc() if after is None else as_aware(after)
        events: list[ClockEvent] = []
        candidates = self._clock_events(after)
        for _ in range(MAX_CANDIDATES if n else 0):
            event = next(candidates, None)
            if event is None:
                break
            if self._keeps(event.start_time):
                start = event.start_time
                for adjust in self.adjustments:
                    start = adjust(start)
                events.append(ClockEvent(start, event.parameter_defaults, event.labels))
                if len(events) == n:
                    break
        if return_events:
            return events
        return [event.start_time for event in events]

    def _clock_events(self, after: datetime) -> Iterator[ClockEvent]:
        merged = heapq.merge(*(clock.events(after) for clock in self.clocks),
                             key=lambda event: instant(event.start_time))
        moment: timedelta | None = None
        seen: set[ClockEvent] = set()
        for event in merged:
            current = instant(event.start_time)
            if current != moment:
                moment, seen = current, set()
            if event not in seen:
                seen.add(event)
                yield event

    def _keeps(self, dt: datetime) -> bool:
        return (all(keep(dt) for keep in self.filters)
                and (not self.or_filters or any(keep(dt) for keep in self.or_filters))
                and not any(drop(dt) for drop in self.not_filters))

    def describe(self) -> str:
        """The schedule in words, for the UI: ``every weekday at 06:00 Europe/Berlin``."""
        text = "; ".join(clock.describe() for clock in self.clocks)
        if self.filters:
            text += ", only " + join([f.describe() for f in self.filters])
        if self.or_filters:
            text += ", only " + join([f.describe() for f in self.or_filters], "or")
        if self.not_filters:
            text += ", except " + join([f.describe() for f in self.not_filters], "or")
        if self.adjustments:
            text += ", " + ", then ".join(a.describe() for a in self.adjustments)
        return text


def IntervalSchedule(start_date: datetime | None = None,
                     interval: timedelta | None = None,
                     end_date: datetime | None = None) -> Schedule:
    """A schedule of one :class:`IntervalClock` (Prefect 1.x's argument order)."""
    return Schedule(clocks=[IntervalClock(interval=interval, start_date=start_date,
                                          end_date=end_date)])


def CronSchedule(cron: str, start_date: datetime | None = None,
                 end_date: datetime | None = None, day_or: bool | None = None) -> Schedule:
    """A schedule of one :class:`CronClock`."""
    return Schedule(clocks=[CronClock(cron, start_date=start_date, end_date=end_date,
                                      day_or=day_or)])


def RRuleSchedule(rrule: rrulebase | str,
                  start_date: datetime | None = None,
                  end_date: datetime | None = None) -> Schedule:
    """A schedule of one :class:`RRuleClock`."""
    return Schedule(clocks=[RRuleClock(rrule, start_date=start_date, end_date=end_date)])


def _schedule_models() -> list[type[ScheduleModel]]:
    from jupyter_flows.schedules.clocks import DatesClock

    return [Schedule, IntervalClock, CronClock, DatesClock, RRuleClock]


SCHEDULES: ConfigKind[ScheduleModel] = ConfigKind(
    "schedule", (Schedule, Clock), ScheduleError, _schedule_models)
"""Schedule configs: a schedule, or a single clock that becomes a schedule of it."""


def schedule_from_config(value: Schedule | Clock | Mapping[str, Any] | str | bytes
                         ) -> Schedule:
    """A schedule from a Schedule, its ``model_dump(mode="json")``, or that as JSON text.

    A single clock (or its config) becomes a schedule of that clock. Anything malformed
    raises ``ScheduleError`` naming the field, e.g.
    ``Schedule.clocks[0].cron: not a valid cron expression: '61 * * * *' (...)``.
    """
    loaded = SCHEDULES.load(value)
    return Schedule(clocks=[loaded]) if isinstance(loaded, Clock) else cast(Schedule, loaded)
