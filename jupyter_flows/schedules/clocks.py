"""Clocks: where a schedule's candidate times come from (Prefect 1.x's ``schedules.clocks``).

Every clock emits :class:`ClockEvent` s strictly after ``after`` (default: now), in time
order, each moment once, in the time zone of the clock's ``start_date`` (UTC without one).
``start_date`` and ``end_date`` bound the events, both included.

Daylight saving time (see :mod:`._time` for the one rule every clock follows):

- ``IntervalClock``: an interval of a day or more keeps the wall-clock time (daily at 06:00
  Europe/Berlin stays 06:00 through March and October); a shorter one counts elapsed time
  (hourly stays 60 minutes apart, so the repeated hour in October reads 02:00 twice).
- ``CronClock`` and ``RRuleClock`` match wall-clock times, as cron does: ``30 2 * * *`` in
  Europe/Berlin runs once on both change nights, at 03:30 CEST on the night 02:30 is
  skipped, and at the first 02:30 (CEST) on the night it is repeated. (croniter on its own
  would run at 03:00 in the gap and twice in the repeated hour.)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime, timedelta, timezone, tzinfo
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, JsonValue, field_validator, model_validator

from jupyter_flows.run_configs.fields import Labels
from jupyter_flows.schedules import _words
from jupyter_flows.schedules._model import ScheduleModel
from jupyter_flows.schedules._time import (
    DAY,
    DEFAULT_START,
    ZonedDateTime,
    as_aware,
    format_datetime,
    instant,
    localize,
    now_utc,
    rule_error,
    skipped_before,
    wall,
    zone,
)

if TYPE_CHECKING:
    from dateutil.rrule import rrulebase

__all__ = ["AnyClock", "Clock", "ClockEvent", "CronClock", "DatesClock", "IntervalClock",
           "RRuleClock"]

_TINY = timedelta(microseconds=1)


class ClockEvent:
    """One time a clock emits, with the parameter defaults and labels of the run it makes.

    Events compare by the moment they are (not by wall time), then by their defaults and
    labels; they sort by moment.
    """

    __slots__ = ("labels", "parameter_defaults", "start_time")

    def __init__(self, start_time: datetime, parameter_defaults: Mapping[str, Any] | None = None,
                 labels: Iterable[str] | None = None) -> None:
        self.start_time = start_time
        self.parameter_defaults = dict(parameter_defaults or {})
        self.labels = list(labels or [])

    def _key(self) -> tuple[timedelta, str, tuple[str, ...]]:
        return (instant(self.start_time), repr(sorted(self.parameter_defaults.items())),
                tuple(self.labels))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ClockEvent):
            return NotImplemented
        return self._key() == other._key()

    def __lt__(self, other: ClockEvent) -> bool:
        return instant(self.start_time) < instant(other.start_time)

    def __hash__(self) -> int:
        return hash(self._key())

    def __repr__(self) -> str:
        extra = "".join(f", {name}={value!r}" for name, value in
                        (("parameter_defaults", self.parameter_defaults), ("labels", self.labels))
                        if value)
        return f"ClockEvent({self.start_time.isoformat()}{extra})"


class Clock(ScheduleModel):
    """The base of every clock: what its events carry, and how ``events`` is called."""

    parameter_defaults: dict[str, JsonValue] = Field(
        default_factory=dict,
        description="Parameter values for the flow runs this clock makes (the run's own "
        "parameters take precedence).",
    )
    labels: Labels = Field(
        default_factory=list,
        description="Labels for the flow runs this clock makes (stored stripped, "
        "deduplicated and sorted).",
    )

    @field_validator("parameter_defaults", mode="before")
    @classmethod
    def _no_defaults(cls, value: Any) -> Any:
        return {} if value is None else value

    def events(self, after: datetime | None = None) -> Iterator[ClockEvent]:
        """The clock's events strictly after ``after`` (default: now), in time order."""
        after = now_utc() if after is None else as_aware(after)
        for start in self._times(after):
            yield ClockEvent(start, self.parameter_defaults, self.labels)

    def _times(self, after: datetime) -> Iterator[datetime]:
        raise NotImplementedError

    def describe(self) -> str:
        """The clock in words, for people."""
        raise NotImplementedError


class _RangeClock(Clock):
    """A clock bounded by ``start_date`` and ``end_date``, whose zone is ``start_date`` 's."""

    start_date: ZonedDateTime | None = Field(
        default=None, description="The first possible time; its time zone is the clock's.")
    end_date: ZonedDateTime | None = Field(default=None, description="The last possible time.")

    @model_validator(mode="after")
    def _ordered(self) -> _RangeClock:
        if (self.start_date is not None and self.end_date is not None
                and instant(self.end_date) < instant(self.start_date)):
            raise rule_error("date_range", f"end_date {format_datetime(self.end_date)} is "
                             f"before start_date {format_datetime(self.start_date)}")
        return self

    @property
    def tz(self) -> tzinfo:
        """The clock's time zone: ``start_date`` 's, else UTC."""
        if self.start_date is not None and self.start_date.tzinfo is not None:
            return self.start_date.tzinfo
        return timezone.utc

    def _times(self, after: datetime) -> Iterator[datetime]:
        """The candidates (rising, maybe repeating a moment) after ``after``, in range."""
        lower = instant(after)
        if self.start_date is not None:
            lower = max(lower, instant(self.start_date) - _TINY)
        upper = instant(self.end_date) if self.end_date is not None else None
        for time in self._candidates(after):
            moment = instant(time)
            if moment <= lower:
                continue
            if upper is not None and moment > upper:
                return
            lower = moment  # also drops a moment seen twice
            yield time

    def _candidates(self, after: datetime) -> Iterator[datetime]:
        raise NotImplementedError

    def _wall_start(self, after: datetime) -> datetime:
        """The naive wall time to search wall-clock matches from (see ``skipped_before``)."""
        if self.start_date is not None and instant(after) < instant(self.start_date):
            after = self.start_date - _TINY
        local = as_aware(after).astimezone(self.tz)
        return local.replace(tzinfo=None) - skipped_before(local)

    def _until(self) -> str:
        return f" until {format_datetime(self.end_date)}" if self.end_date is not None else ""


class IntervalClock(_RangeClock):
    """Every ``interval`` from ``start_date`` (default 2019-01-01 00:00 UTC).

    An interval of a day or more keeps the wall-clock time of ``start_date`` across
    daylight saving time; a shorter one counts elapsed time.
    """

    type: Literal["interval"] = "interval"
    interval: timedelta = Field(description="Time between runs (ISO 8601 duration in JSON).")

    def __init__(self, interval: timedelta | None = None, start_date: datetime | None = None,
                 end_date: datetime | None = None,
                 parameter_defaults: Mapping[str, Any] | None = None,
                 labels: Iterable[str] | None = None, **data: Any) -> None:
        super().__init__(**_given(interval=interval, start_date=start_date, end_date=end_date,
                                  parameter_defaults=parameter_defaults, labels=labels), **data)

    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @field_validator("interval")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise rule_error("interval", f"must be greater than 0, got {value}")
        return value

    def _candidates(self, after: datetime) -> Iterator[datetime]:
        start = self.start_date or DEFAULT_START
        tz = self.tz
        step = self.interval
        on_wall_clock = step >= DAY
        begin = start.replace(tzinfo=None) if on_wall_clock else start.astimezone(timezone.utc)
        if instant(after) < instant(start):
            n = 0
        elif on_wall_clock:
            # start a step early; _times drops what is not after `after`
            n = max(0, (wall(after, tz) - begin) // step - 1)
        else:
            n = (instant(after) - instant(start)) // step + 1
        try:
            while True:
                if n == 0:
                    yield start
                elif on_wall_clock:
                    yield localize(begin + n * step, tz)
                else:
                    yield (begin + n * step).astimezone(tz)
                n += 1
        except OverflowError:  # past the year 9999
            return

    def describe(self) -> str:
        return _words.interval(self.interval, self.start_date or DEFAULT_START) + self._until()


class CronClock(_RangeClock):
    """The times a cron expression matches, in the time zone of ``start_date`` (UTC).

    ``day_or=True`` (cron's rule) runs when either the day of the month or the day of
    the week matches; ``False`` when both do (``0 9 8-14 * 5``: the second Friday).
    """

    type: Literal["cron"] = "cron"
    cron: str = Field(description="A cron expression, e.g. '0 6 * * 1-5' (read by croniter).",
                      examples=["0 6 * * 1-5", "*/15 * * * *"])
    day_or: bool = Field(default=True, description="Day of month OR day of week (cron's "
                         "rule); false: both must match.")

    def __init__(self, cron: str | None = None, start_date: datetime | None = None,
                 end_date: datetime | None = None,
                 parameter_defaults: Mapping[str, Any] | None = None,
                 labels: Iterable[str] | None = None, day_or: bool | None = None,
                 **data: Any) -> None:
        super().__init__(**_given(cron=cron, start_date=start_date, end_date=end_date,
                                  parameter_defaults=parameter_defaults, labels=labels,
                                  day_or=day_or), **data)

    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, value: str) -> str:
        from croniter import croniter

        try:
            croniter(value)
        except (ValueError, KeyError, TypeError) as exc:  # croniter's errors are ValueErrors
            raise rule_error("cron", f"not a valid cron expression: {value!r} "
                             f"(croniter: {exc})") from None
        return value

    @model_validator(mode="after")
    def _matches_some_date(self) -> CronClock:
        from croniter import CroniterBadDateError, croniter

        try:
            croniter(self.cron, datetime(2000, 1, 1), day_or=self.day_or).get_next(datetime)
        except CroniterBadDateError:
            raise rule_error("cron", f"cron {self.cron!r} matches no date"
                             + ("" if self.day_or else " with day_or=False")) from None
        return self

    def _candidates(self, after: datetime) -> Iterator[datetime]:
        from croniter import CroniterBadDateError, croniter

        matches = croniter(self.cron, self._wall_start(after), day_or=self.day_or)
        tz = self.tz
        while True:
            try:
                naive = matches.get_next(datetime)
            except (CroniterBadDateError, OverflowError):
                return
            yield localize(naive, tz)

    def describe(self) -> str:
        return _words.cron(self.cron, self.day_or, self.start_date) + self._until()


class DatesClock(Clock):
    """Exactly the given ``dates`` (each in its own time zone)."""

    type: Literal["dates"] = "dates"
    dates: list[ZonedDateTime] = Field(description="The times to run at; at least one.")

    def __init__(self, dates: Iterable[datetime] | None = None,
                 parameter_defaults: Mapping[str, Any] | None = None,
                 labels: Iterable[str] | None = None, **data: Any) -> None:
        super().__init__(**_given(dates=None if dates is None else list(dates),
                                  parameter_defaults=parameter_defaults, labels=labels), **data)

    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @field_validator("dates")
    @classmethod
    def _some_date(cls, value: list[datetime]) -> list[datetime]:
        if not value:
            raise rule_error("dates", "at least one date is required")
        return value

    @property
    def start_date(self) -> datetime:
        return min(self.dates, key=instant)

    @property
    def end_date(self) -> datetime:
        return max(self.dates, key=instant)

    def _times(self, after: datetime) -> Iterator[datetime]:
        lower = instant(after)
        for date in sorted(self.dates, key=instant):
            if instant(date) > lower:
                lower = instant(date)
                yield date

    def describe(self) -> str:
        dates = sorted(self.dates, key=instant)
        if len(dates) <= 3:
            return "at " + _words.join([format_datetime(d) for d in dates])
        return (f"at {len(dates)} times from {format_datetime(dates[0])} "
                f"to {format_datetime(dates[-1])}")


_DTSTART = re.compile(r"^DTSTART(?:;TZID=(?P<tz>[^:;]+))?:(?P<dt>\d{8}T\d{6})(?P<utc>Z?)$",
                      re.IGNORECASE)


class RRuleClock(_RangeClock):
    """The times an iCalendar (RFC 5545) recurrence rule matches, read by dateutil.

    ``rrule`` is a dateutil ``rrule`` or its text (``RRULE:FREQ=WEEKLY;BYDAY=MO,FR``, with
    ``RDATE``/``EXDATE`` lines if wanted). Its DTSTART moves to ``start_date``, the rule's
    anchor and time zone; a ``start_date`` given as well takes precedence. Without either
    the rule counts from 2019-01-01 00:00 UTC. Times in the rule (UNTIL, EXDATE) are wall
    times in the clock's time zone.
    """

    type: Literal["rrule"] = "rrule"
    rrule: str = Field(description="RFC 5545 recurrence text without DTSTART, e.g. "
                       "'RRULE:FREQ=WEEKLY;BYDAY=MO,FR;BYHOUR=9'.",
                       examples=["RRULE:FREQ=MONTHLY;BYDAY=-1FR;BYHOUR=17;BYMINUTE=0"])

    def __init__(self, rrule: rrulebase | str | None = None, start_date: datetime | None = None,
                 end_date: datetime | None = None,
                 parameter_defaults: Mapping[str, Any] | None = None,
                 labels: Iterable[str] | None = None, **data: Any) -> None:
        super().__init__(**_given(rrule=rrule, start_date=start_date, end_date=end_date,
                                  parameter_defaults=parameter_defaults, labels=labels), **data)

    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @model_validator(mode="before")
    @classmethod
    def _split_dtstart(cls, data: Any) -> Any:
        if not isinstance(data, Mapping) or "rrule" not in data:
            return data
        data = dict(data)
        text, dtstart = _rule_text(data["rrule"])
        data["rrule"] = text
        if data.get("start_date") is None and dtstart is not None:
            data["start_date"] = dtstart
        return data

    @field_validator("rrule", mode="before")
    @classmethod
    def _no_rruleset(cls, value: Any) -> Any:
        from dateutil.rrule import rruleset

        if isinstance(value, rruleset):
            raise rule_error("rrule", "a dateutil rruleset cannot be stored; give its RFC 5545 "
                             "text (RRULE, RDATE and EXDATE lines) instead")
        return value

    @field_validator("rrule")
    @classmethod
    def _valid_rule(cls, value: str) -> str:
        try:
            _parse_rule(value, DEFAULT_START.replace(tzinfo=None))
        except (ValueError, TypeError, IndexError) as exc:
            raise rule_error("rrule", f"not a valid RFC 5545 recurrence rule: {value!r} "
                             f"(dateutil: {exc})") from None
        return value

    def _candidates(self, after: datetime) -> Iterator[datetime]:
        anchor = (self.start_date or DEFAULT_START).replace(tzinfo=None)
        rule = _parse_rule(self.rrule, anchor)
        tz = self.tz
        try:
            for naive in rule.xafter(self._wall_start(after)):
                yield localize(naive, tz)
        except OverflowError:
            return

    def describe(self) -> str:
        rule = " ".join(line.removeprefix("RRULE:") for line in self.rrule.splitlines())
        start = format_datetime(self.start_date or DEFAULT_START)
        return f"rrule {rule} from {start}{self._until()}"


def _given(**fields: Any) -> dict[str, Any]:
    """The fields a caller passed, so the model's defaults apply to the rest."""
    return {name: value for name, value in fields.items() if value is not None}


def _rule_text(value: Any) -> tuple[Any, datetime | None]:
    """``(text without DTSTART, DTSTART)`` of an rrule object or text; other values as given."""
    from dateutil.rrule import rrule

    if isinstance(value, rrule):
        start: datetime = value._dtstart  # type: ignore[attr-defined]  # no public accessor
        lines = [line for line in str(value).splitlines() if not line.startswith("DTSTART")]
        return "\n".join(lines), start if start.tzinfo is not None else as_aware(start)
    if not isinstance(value, str):
        return value, None
    dtstart = None
    kept = []
    for line in (raw.strip() for raw in value.strip().splitlines()):
        found = _DTSTART.match(line)
        if found is None:
            if line.upper().startswith("DTSTART"):
                raise rule_error("rrule", f"expected DTSTART like 'DTSTART;TZID=Europe/Berlin:"
                                 f"20260101T090000', got {line!r}")
            kept.append(line)
            continue
        naive = datetime.strptime(found["dt"], "%Y%m%dT%H%M%S")
        if found["utc"]:
            dtstart = naive.replace(tzinfo=timezone.utc)
        elif found["tz"]:
            try:
                dtstart = localize(naive, zone(found["tz"]))
            except ValueError as exc:
                raise rule_error("rrule", str(exc)) from None
        else:
            dtstart = as_aware(naive)
    return "\n".join(kept), dtstart


def _parse_rule(text: str, anchor: datetime) -> rrulebase:
    from dateutil.rrule import rrulestr

    return rrulestr(text, dtstart=anchor, ignoretz=True, forceset=True, cache=False)


AnyClock = Annotated[IntervalClock | CronClock | DatesClock | RRuleClock,
                     Field(discriminator="type")]
"""Any clock; a pydantic field type."""
