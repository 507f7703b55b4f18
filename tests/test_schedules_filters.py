"""Filters and adjustments as Prefect code uses them, against references computed here with
the datetime and calendar modules; and how a Schedule combines them."""

from __future__ import annotations

import calendar
import itertools
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from jupyter_flows.schedules import (
    CronClock,
    DatesClock,
    IntervalClock,
    Schedule,
    adjustments,
    filters,
)
from jupyter_flows.schedules.schedule import MAX_CANDIDATES

UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")

# two leap-year months at four times a day, in Berlin (the wall clock filters read)
SAMPLES = [datetime.combine(date(2024, 2, 1) + timedelta(days=d), time(h, 30), BERLIN)
           for d in range(60) for h in (0, 8, 17, 23)]
SAMPLES += [datetime(2023, 2, 28, 12, tzinfo=UTC), datetime(2024, 12, 31, 23, 59, tzinfo=UTC),
            datetime(2025, 1, 1, 0, 0, tzinfo=UTC)]


def is_last_day(dt: datetime) -> bool:
    return (dt.date() + timedelta(days=1)).month != dt.month


FILTER_TABLE = [
    pytest.param(filters.is_weekday, lambda dt: dt.isoweekday() <= 5, id="is_weekday"),
    pytest.param(filters.is_weekend, lambda dt: dt.isoweekday() >= 6, id="is_weekend"),
    pytest.param(filters.is_month_start, lambda dt: dt.day == 1, id="is_month_start"),
    pytest.param(filters.is_month_end, is_last_day, id="is_month_end"),
    pytest.param(filters.is_day_of_week(2), lambda dt: dt.strftime("%A") == "Wednesday",
                 id="is_day_of_week"),
    pytest.param(filters.on_date(2, 29), lambda dt: dt.strftime("%m-%d") == "02-29",
                 id="on_date-leap-day"),
    pytest.param(filters.at_time(time(17, 30)), lambda dt: dt.strftime("%H:%M") == "17:30",
                 id="at_time"),
    pytest.param(filters.on_datetime(datetime(2024, 2, 10, 16, 30, tzinfo=UTC)),
                 lambda dt: dt.timestamp() == datetime(2024, 2, 10, 16, 30,
                                                       tzinfo=UTC).timestamp(),
                 id="on_datetime-other-zone"),
    pytest.param(filters.between_times(time(8), time(17, 30)),
                 lambda dt: 8 * 60 <= dt.hour * 60 + dt.minute <= 17 * 60 + 30,
                 id="between_times"),
    pytest.param(filters.between_times(time(23), time(1)),
                 lambda dt: dt.hour >= 23 or dt.hour * 60 + dt.minute <= 60,
                 id="between_times-over-midnight"),
    pytest.param(filters.between_dates(2, 27, 3, 2),
                 lambda dt: date(dt.year, 2, 27) <= dt.date() <= date(dt.year, 3, 2),
                 id="between_dates"),
    pytest.param(filters.between_dates(12, 31, 2, 28),
                 lambda dt: dt.strftime("%m-%d") >= "12-31" or dt.strftime("%m-%d") <= "02-28",
                 id="between_dates-over-new-year"),
    pytest.param(filters.between_datetimes(datetime(2024, 2, 29, 8, 30, tzinfo=BERLIN),
                                           datetime(2024, 3, 1, 7, 30, tzinfo=UTC)),
                 lambda dt: (datetime(2024, 2, 29, 7, 30, tzinfo=UTC).timestamp()
                             <= dt.timestamp()
                             <= datetime(2024, 3, 1, 7, 30, tzinfo=UTC).timestamp()),
                 id="between_datetimes"),
]


@pytest.mark.parametrize(("keep", "reference"), FILTER_TABLE)
def test_filter_table(keep: filters.Filter, reference: object) -> None:
    assert callable(reference)
    got = [keep(dt) for dt in SAMPLES]
    assert got == [reference(dt) for dt in SAMPLES]
    assert any(got) and not all(got)  # the samples exercise both answers


def test_filters_read_the_wall_clock_of_the_event() -> None:
    # 23:30 UTC on Feb 29 is 00:30 on March 1 in Berlin: a month's first day only there
    moment = datetime(2024, 2, 29, 23, 30, tzinfo=UTC)
    assert not filters.is_month_start(moment)
    assert filters.is_month_start(moment.astimezone(BERLIN))
    assert calendar.monthrange(2024, 2)[1] == 29 and filters.is_month_end(moment)


@pytest.mark.parametrize(("start", "expected"), [
    pytest.param(datetime(2024, 3, 1, 9, tzinfo=BERLIN), "2024-03-01T09:00:00+01:00",
                 id="friday-stays"),
    pytest.param(datetime(2024, 3, 2, 9, tzinfo=BERLIN), "2024-03-04T09:00:00+01:00",
                 id="saturday-to-monday"),
    pytest.param(datetime(2024, 3, 31, 2, 30, tzinfo=BERLIN), "2024-04-01T02:30:00+02:00",
                 id="sunday-over-dst"),
])
def test_next_weekday(start: datetime, expected: str) -> None:
    moved = adjustments.next_weekday(start)
    assert moved.isoformat() == expected
    assert moved.weekday() < 5 and moved.time() == start.time()


@pytest.mark.parametrize(("interval", "start", "expected"), [
    pytest.param(timedelta(hours=1), datetime(2024, 10, 27, 2, 30, tzinfo=BERLIN),
                 "2024-10-27T02:30:00+01:00", id="hour-is-elapsed-time"),
    pytest.param(timedelta(days=1), datetime(2024, 3, 30, 2, 30, tzinfo=BERLIN),
                 "2024-03-31T03:30:00+02:00", id="day-is-wall-clock-into-the-gap"),
    pytest.param(timedelta(days=1), datetime(2024, 3, 30, 9, tzinfo=BERLIN),
                 "2024-03-31T09:00:00+02:00", id="day-keeps-the-time"),
    pytest.param(timedelta(days=1), datetime(2024, 2, 28, 9, tzinfo=UTC),
                 "2024-02-29T09:00:00+00:00", id="leap-day"),
    pytest.param(-timedelta(minutes=30), datetime(2024, 1, 1, 0, 10, tzinfo=UTC),
                 "2023-12-31T23:40:00+00:00", id="negative"),
])
def test_add(interval: timedelta, start: datetime, expected: str) -> None:
    assert adjustments.add(interval)(start).isoformat() == expected


# ---------------------------------------------------------------------------- schedule
def every_hour_from(day: datetime) -> IntervalClock:
    return IntervalClock(timedelta(hours=1), start_date=day)


def test_prefect_style_schedule_works_unchanged() -> None:
    schedule = Schedule(
        clocks=[every_hour_from(datetime(2024, 2, 1, tzinfo=BERLIN))],
        filters=[filters.is_weekday, filters.between_times(time(9), time(11))],
        or_filters=[filters.on_date(2, 29), filters.is_month_start],
        not_filters=[filters.at_time(time(10))],
        adjustments=[adjustments.add(timedelta(minutes=5)), adjustments.next_weekday],
    )
    after = datetime(2024, 2, 1, tzinfo=BERLIN)
    got = schedule.next(4, after=after)
    # reference: every hour from `after`, filtered here by hand
    hours = (after + timedelta(hours=h) for h in itertools.count(1))
    kept = (dt for dt in hours if dt.weekday() < 5 and time(9) <= dt.time() <= time(11)
            and (dt.strftime("%m-%d") == "02-29" or dt.day == 1) and dt.time() != time(10))
    expected = [dt + timedelta(minutes=5) for dt in itertools.islice(kept, 4)]
    assert got == expected
    assert [d.strftime("%m-%d %H:%M") for d in got] == ["02-01 09:05", "02-01 11:05",
                                                        "02-29 09:05", "02-29 11:05"]


def test_adjustments_apply_in_order_after_filters() -> None:
    saturday = datetime(2024, 3, 2, 9, tzinfo=UTC)
    schedule = Schedule([DatesClock([saturday])], filters=[filters.is_weekend],
                        adjustments=[adjustments.next_weekday, adjustments.add(timedelta(hours=1))])
    assert schedule.next(1, after=datetime(2024, 1, 1, tzinfo=UTC)) == [
        datetime(2024, 3, 4, 10, tzinfo=UTC)]
    reversed_order = Schedule([DatesClock([saturday])],
                              adjustments=[adjustments.add(timedelta(days=2)),
                                           adjustments.next_weekday])
    assert reversed_order.next(1, after=datetime(2024, 1, 1, tzinfo=UTC)) == [
        datetime(2024, 3, 4, 9, tzinfo=UTC)]


def test_a_filter_that_keeps_nothing_ends_the_search() -> None:
    minutely = Schedule([CronClock("* * * * *")], filters=[filters.on_date(2, 29)])
    # from March 2023 the next Feb 29 is more than MAX_CANDIDATES minutes away
    assert minutely.next(1, after=datetime(2023, 3, 1, tzinfo=UTC)) == []
    assert MAX_CANDIDATES == 10_000
    # within reach, it is found
    assert minutely.next(1, after=datetime(2024, 2, 28, 12, tzinfo=UTC)) == [
        datetime(2024, 2, 29, tzinfo=UTC)]


def test_next_with_return_events_and_zero() -> None:
    schedule = Schedule([CronClock("0 9 * * *", parameter_defaults={"n": 1}, labels=["a"])])
    after = datetime(2024, 1, 1, tzinfo=UTC)
    (event,) = schedule.next(1, after=after, return_events=True)
    assert (event.start_time, event.parameter_defaults, event.labels) == (
        datetime(2024, 1, 1, 9, tzinfo=UTC), {"n": 1}, ["a"])
    assert schedule.next(0, after=after) == []
