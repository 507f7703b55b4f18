"""Clocks against reference values computed here with croniter, dateutil and zoneinfo
directly, including both daylight-saving changes in Europe/Berlin and America/New_York
and a leap day; the DST rules themselves are also pinned as literal tables."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter
from dateutil import rrule as du

from jupyter_flows.schedules import (
    ClockEvent,
    CronClock,
    DatesClock,
    IntervalClock,
    RRuleClock,
    Schedule,
)

UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
TOKYO = ZoneInfo("Asia/Tokyo")

# (zone, a moment shortly before something interesting happens there)
PERIODS = [
    pytest.param(UTC, datetime(2024, 1, 1, tzinfo=UTC), id="utc"),
    pytest.param(BERLIN, datetime(2024, 3, 30, 12, tzinfo=BERLIN), id="berlin-spring-forward"),
    pytest.param(BERLIN, datetime(2024, 10, 26, 12, tzinfo=BERLIN), id="berlin-fall-back"),
    pytest.param(NEW_YORK, datetime(2024, 3, 9, 12, tzinfo=NEW_YORK), id="ny-spring-forward"),
    pytest.param(NEW_YORK, datetime(2024, 11, 2, 12, tzinfo=NEW_YORK), id="ny-fall-back"),
    pytest.param(BERLIN, datetime(2024, 2, 27, 12, tzinfo=BERLIN), id="berlin-leap-day"),
]


def iso(times: list[datetime]) -> list[str]:
    """ISO text with the offset, so the two 02:30s of a repeated hour read apart."""
    return [t.isoformat() for t in times]


def utc(times: list[datetime]) -> list[datetime]:
    return [t.astimezone(UTC) for t in times]


def first(clock: IntervalClock | CronClock | DatesClock | RRuleClock, n: int,
          after: datetime) -> list[datetime]:
    return [event.start_time for event in itertools.islice(clock.events(after), n)]


# --------------------------------------------------------------------------- references
def once_each(times: Iterable[datetime], after: datetime, n: int) -> list[datetime]:
    """The first ``n`` moments after ``after``, each once, from rising ``times``."""
    out: list[datetime] = []
    for time in times:
        if time > after and (not out or time > out[-1]):
            out.append(time)
        if len(out) == n:
            break
    return out


def cron_reference(expr: str, tz: ZoneInfo, after: datetime, n: int) -> list[datetime]:
    """croniter over naive wall-clock times, placed by zoneinfo alone: fold=0 means a
    repeated time's first occurrence and a skipped time's pre-change offset."""
    matches = croniter(expr, after.astimezone(tz).replace(tzinfo=None) - timedelta(hours=3))
    placed = (matches.get_next(datetime).replace(tzinfo=tz).astimezone(UTC) for _ in
              itertools.count())
    return [t.astimezone(tz) for t in once_each(placed, after, n)]


# ----------------------------------------------------------------------------- interval
@pytest.mark.parametrize(("tz", "after"), PERIODS)
@pytest.mark.parametrize("minutes", [1, 15, 60, 90, 7 * 60])
def test_interval_below_a_day_counts_elapsed_time(tz: ZoneInfo, after: datetime,
                                                  minutes: int) -> None:
    start = datetime(2023, 12, 1, 0, 7, tzinfo=tz)
    step = timedelta(minutes=minutes)
    clock = IntervalClock(step, start_date=start)
    # reference: plain UTC arithmetic
    k = (after.astimezone(UTC) - start.astimezone(UTC)) // step + 1
    expected = [(start.astimezone(UTC) + (k + i) * step).astimezone(tz) for i in range(40)]
    got = first(clock, 40, after)
    assert iso(got) == iso(expected)
    assert all(t.tzinfo is tz for t in got)


@pytest.mark.parametrize(("tz", "after"), PERIODS)
@pytest.mark.parametrize("days", [1, 2, 7])
@pytest.mark.parametrize("at", [(9, 0), (2, 30), (1, 30)])
def test_interval_of_days_keeps_the_wall_clock_time(tz: ZoneInfo, after: datetime, days: int,
                                                    at: tuple[int, int]) -> None:
    start = datetime(2023, 12, 1, *at, tzinfo=tz)
    clock = IntervalClock(timedelta(days=days), start_date=start)
    # reference: dateutil's DAILY rule, which steps the wall clock, compared as moments
    rule = du.rrule(du.DAILY, interval=days, dtstart=start)
    expected = [t for t in itertools.islice(rule.xafter(after.astimezone(tz)), 12)]
    assert utc(first(clock, 12, after)) == utc(expected)


def test_interval_daylight_saving_literals() -> None:
    daily = IntervalClock(timedelta(days=1), start_date=datetime(2024, 1, 1, 2, 30, tzinfo=BERLIN))
    assert iso(first(daily, 3, datetime(2024, 3, 30, tzinfo=BERLIN))) == [
        "2024-03-30T02:30:00+01:00",
        "2024-03-31T03:30:00+02:00",  # 02:30 does not exist that night
        "2024-04-01T02:30:00+02:00",
    ]
    assert iso(first(daily, 3, datetime(2024, 10, 26, tzinfo=BERLIN))) == [
        "2024-10-26T02:30:00+02:00",
        "2024-10-27T02:30:00+02:00",  # the first of the two 02:30s
        "2024-10-28T02:30:00+01:00",
    ]
    hourly = IntervalClock(timedelta(hours=1), start_date=datetime(2024, 1, 1, tzinfo=BERLIN))
    assert iso(first(hourly, 4, datetime(2024, 10, 27, 1, 30, tzinfo=BERLIN))) == [
        "2024-10-27T02:00:00+02:00",
        "2024-10-27T02:00:00+01:00",  # an hour later, and 02:00 again on the wall
        "2024-10-27T03:00:00+01:00",
        "2024-10-27T04:00:00+01:00",
    ]
    nine = IntervalClock(timedelta(days=1), start_date=datetime(2024, 1, 1, 9, tzinfo=NEW_YORK))
    assert iso(first(nine, 2, datetime(2024, 3, 9, 12, tzinfo=NEW_YORK))) == [
        "2024-03-10T09:00:00-04:00", "2024-03-11T09:00:00-04:00"]
    assert iso(first(nine, 2, datetime(2024, 11, 2, 12, tzinfo=NEW_YORK))) == [
        "2024-11-03T09:00:00-05:00", "2024-11-04T09:00:00-05:00"]


def test_interval_bounds_and_defaults() -> None:
    start = datetime(2024, 2, 28, 6, tzinfo=UTC)
    clock = IntervalClock(timedelta(days=1), start_date=start,
                          end_date=datetime(2024, 3, 1, 6, tzinfo=UTC))
    # before the start, the start itself comes first; the end is included; Feb 29 exists
    assert iso(first(clock, 10, datetime(2020, 1, 1, tzinfo=UTC))) == [
        "2024-02-28T06:00:00+00:00", "2024-02-29T06:00:00+00:00", "2024-03-01T06:00:00+00:00"]
    # strictly after `after`
    assert first(clock, 1, start) == [datetime(2024, 2, 29, 6, tzinfo=UTC)]
    # no start_date: counts from 2019-01-01 00:00 UTC, as Prefect 1.x
    quarter = IntervalClock(timedelta(minutes=15))
    assert first(quarter, 2, datetime(2024, 5, 5, 10, 7, tzinfo=UTC)) == [
        datetime(2024, 5, 5, 10, 15, tzinfo=UTC), datetime(2024, 5, 5, 10, 30, tzinfo=UTC)]
    # a naive `after` is UTC
    assert first(quarter, 1, datetime(2024, 5, 5, 10, 7)) == [
        datetime(2024, 5, 5, 10, 15, tzinfo=UTC)]


def test_events_carry_parameter_defaults_and_labels() -> None:
    clock = IntervalClock(timedelta(hours=1), parameter_defaults={"n": 3},
                          labels=["etl", " gpu ", "etl"])
    event = next(clock.events(datetime(2024, 1, 1, tzinfo=UTC)))
    assert event == ClockEvent(datetime(2024, 1, 1, 1, tzinfo=UTC), {"n": 3}, ["etl", "gpu"])
    assert event.parameter_defaults == {"n": 3} and event.labels == ["etl", "gpu"]


def test_events_default_to_after_now() -> None:
    before = datetime.now(UTC)
    event = next(IntervalClock(timedelta(seconds=1)).events())
    assert before < event.start_time <= datetime.now(UTC) + timedelta(seconds=1)


# --------------------------------------------------------------------------------- cron
CRONS = [
    "* * * * *",
    "*/15 * * * *",
    "0 * * * *",
    "30 2 * * *",
    "30 1 * * *",
    "0 6 * * 1-5",
    "0 9,17 * * *",
    "5-20/5 8 * * *",
    "0 0 1,15 * *",
    "0 12 * * mon,wed,fri",
    "15 3 * * 0",
    "0 0 L * *",
    "0 12 29 2 *",
    "0 */6 * * *",
    "@daily",
]


@pytest.mark.parametrize(("tz", "after"), PERIODS)
@pytest.mark.parametrize("expr", CRONS)
def test_cron_table(tz: ZoneInfo, after: datetime, expr: str) -> None:
    clock = CronClock(expr, start_date=datetime(2020, 1, 1, tzinfo=tz))
    n = 3 if expr == "0 12 29 2 *" else 30
    assert iso(first(clock, n, after)) == iso(cron_reference(expr, tz, after, n))


@pytest.mark.parametrize("expr", CRONS)
def test_cron_matches_croniter_itself_where_no_clock_changes(expr: str) -> None:
    # Tokyo has no daylight saving time, so croniter's own zone handling is the reference
    after = datetime(2024, 2, 27, 12, tzinfo=TOKYO)
    n = 3 if expr == "0 12 29 2 *" else 30
    direct = croniter(expr, after)
    expected = [direct.get_next(datetime) for _ in range(n)]
    got = first(CronClock(expr, start_date=datetime(2020, 1, 1, tzinfo=TOKYO)), n, after)
    assert iso(got) == iso(expected)


def test_cron_daylight_saving_literals() -> None:
    """The rule: wall-clock times, each once; a skipped one runs as far past the change as
    it was past the hour before; a repeated one runs at its first occurrence."""
    daily = CronClock("30 2 * * *", start_date=datetime(2024, 1, 1, tzinfo=BERLIN))
    assert iso(first(daily, 3, datetime(2024, 3, 30, tzinfo=BERLIN))) == [
        "2024-03-30T02:30:00+01:00", "2024-03-31T03:30:00+02:00", "2024-04-01T02:30:00+02:00"]
    assert iso(first(daily, 3, datetime(2024, 10, 26, tzinfo=BERLIN))) == [
        "2024-10-26T02:30:00+02:00", "2024-10-27T02:30:00+02:00", "2024-10-28T02:30:00+01:00"]
    hourly = CronClock("0 * * * *", start_date=datetime(2024, 1, 1, tzinfo=BERLIN))
    assert iso(first(hourly, 3, datetime(2024, 10, 27, 0, 30, tzinfo=BERLIN))) == [
        "2024-10-27T01:00:00+02:00", "2024-10-27T02:00:00+02:00", "2024-10-27T03:00:00+01:00"]
    assert iso(first(hourly, 3, datetime(2024, 3, 31, 0, 30, tzinfo=BERLIN))) == [
        "2024-03-31T01:00:00+01:00", "2024-03-31T03:00:00+02:00", "2024-03-31T04:00:00+02:00"]
    ny = CronClock("30 2 * * *", start_date=datetime(2024, 1, 1, tzinfo=NEW_YORK))
    assert iso(first(ny, 2, datetime(2024, 3, 9, 12, tzinfo=NEW_YORK))) == [
        "2024-03-10T03:30:00-04:00", "2024-03-11T02:30:00-04:00"]
    ny_fall = CronClock("30 1 * * *", start_date=datetime(2024, 1, 1, tzinfo=NEW_YORK))
    assert iso(first(ny_fall, 2, datetime(2024, 11, 2, 12, tzinfo=NEW_YORK))) == [
        "2024-11-03T01:30:00-04:00", "2024-11-04T01:30:00-05:00"]


def test_cron_after_inside_the_changes() -> None:
    daily = CronClock("45 2 * * *", start_date=datetime(2024, 1, 1, tzinfo=BERLIN))
    # 03:10 CEST is after the gap, but 02:45 (placed at 03:45) is still to come that night
    assert iso(first(daily, 1, datetime(2024, 3, 31, 3, 10, tzinfo=BERLIN))) == [
        "2024-03-31T03:45:00+02:00"]
    # during the second 02:xx hour: the first 02:45 has been, so the next is tomorrow
    second_hour = datetime(2024, 10, 27, 2, 10, fold=1, tzinfo=BERLIN)
    assert second_hour.utcoffset() == timedelta(hours=1)
    assert iso(first(daily, 1, second_hour)) == ["2024-10-28T02:45:00+01:00"]


@pytest.mark.parametrize("day_or", [True, False])
def test_cron_day_or(day_or: bool) -> None:
    after = datetime(2024, 1, 1, tzinfo=UTC)
    direct = croniter("0 0 13 * 5", after, day_or=day_or)
    expected = [direct.get_next(datetime) for _ in range(8)]
    got = first(CronClock("0 0 13 * 5", day_or=day_or), 8, after)
    assert got == expected
    if day_or:  # every Friday and every 13th
        assert [t.day for t in got[:3]] == [5, 12, 13]
    else:  # only Friday the 13th
        assert [t.date().isoformat() for t in got[:3]] == ["2024-09-13", "2024-12-13",
                                                            "2025-06-13"]


def test_cron_bounds_and_zone() -> None:
    clock = CronClock("0 12 * * *", start_date=datetime(2024, 2, 28, 12, tzinfo=BERLIN),
                      end_date=datetime(2024, 3, 1, 12, tzinfo=BERLIN))
    got = first(clock, 10, datetime(2000, 1, 1, tzinfo=UTC))
    assert iso(got) == ["2024-02-28T12:00:00+01:00", "2024-02-29T12:00:00+01:00",
                        "2024-03-01T12:00:00+01:00"]
    # without a start_date the clock is in UTC
    assert first(CronClock("0 12 * * *"), 1, datetime(2024, 1, 1, tzinfo=BERLIN)) == [
        datetime(2024, 1, 1, 12, tzinfo=UTC)]


def test_cron_with_no_more_dates_ends() -> None:
    clock = CronClock("0 12 29 2 *", end_date=datetime(2030, 1, 1, tzinfo=UTC))
    assert first(clock, 10, datetime(2023, 1, 1, tzinfo=UTC)) == [
        datetime(2024, 2, 29, 12, tzinfo=UTC), datetime(2028, 2, 29, 12, tzinfo=UTC)]


# -------------------------------------------------------------------------------- dates
def test_dates_clock_sorts_and_keeps_each_zone() -> None:
    fall_first = datetime(2024, 10, 27, 2, 30, fold=0, tzinfo=BERLIN)
    fall_second = datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=BERLIN)
    dates = [datetime(2024, 2, 29, 18, tzinfo=NEW_YORK), fall_second, fall_first,
             datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 1, tzinfo=UTC)]
    clock = DatesClock(dates)
    expected = sorted({d.astimezone(UTC) for d in dates})
    got = first(clock, 10, datetime(2023, 1, 1, tzinfo=UTC))
    assert utc(got) == expected
    assert iso(got)[-2:] == ["2024-10-27T02:30:00+02:00", "2024-10-27T02:30:00+01:00"]
    assert first(clock, 10, datetime(2024, 2, 29, 22, tzinfo=UTC)) == [
        datetime(2024, 2, 29, 18, tzinfo=NEW_YORK), fall_first, fall_second]
    assert clock.start_date == datetime(2024, 1, 1, tzinfo=UTC)
    assert clock.end_date.isoformat() == "2024-10-27T02:30:00+01:00"


# -------------------------------------------------------------------------------- rrule
RRULES = [
    "RRULE:FREQ=DAILY;BYHOUR=2;BYMINUTE=30",
    "RRULE:FREQ=WEEKLY;BYDAY=MO,FR;BYHOUR=9;BYMINUTE=0",
    "RRULE:FREQ=MONTHLY;BYDAY=-1FR;BYHOUR=17;BYMINUTE=0",
    "RRULE:FREQ=HOURLY;INTERVAL=5",
    "RRULE:FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29;BYHOUR=12",
    "RRULE:FREQ=MINUTELY;INTERVAL=20;BYHOUR=1,2,3",
]


@pytest.mark.parametrize(("tz", "after"), PERIODS)
@pytest.mark.parametrize("text", RRULES)
def test_rrule_table(tz: ZoneInfo, after: datetime, text: str) -> None:
    start = datetime(2024, 1, 1, tzinfo=tz)
    clock = RRuleClock(text, start_date=start)
    n = 2 if "YEARLY" in text else 25
    # reference: dateutil with an aware DTSTART (wall-clock times, fold=0), as moments
    rule = du.rrulestr(text, dtstart=start)
    expected = once_each((t.astimezone(UTC) for t in rule.xafter(after.astimezone(tz))),
                         after, n)
    assert utc(first(clock, n, after)) == expected


def test_rrule_from_a_dateutil_rule_and_dtstart_text() -> None:
    rule = du.rrule(du.WEEKLY, byweekday=(du.MO, du.FR), dtstart=datetime(2024, 1, 1, 9,
                                                                           tzinfo=BERLIN))
    clock = RRuleClock(rule)
    assert clock.start_date == datetime(2024, 1, 1, 9, tzinfo=BERLIN)
    assert "DTSTART" not in clock.rrule
    after = datetime(2024, 3, 25, tzinfo=BERLIN)
    assert first(clock, 6, after) == list(itertools.islice(rule.xafter(after), 6))

    text = RRuleClock("DTSTART;TZID=America/New_York:20240101T013000\nRRULE:FREQ=DAILY")
    assert text.start_date is not None and text.start_date.tzinfo == NEW_YORK
    assert iso(first(text, 2, datetime(2024, 11, 2, 12, tzinfo=NEW_YORK))) == [
        "2024-11-03T01:30:00-04:00", "2024-11-04T01:30:00-05:00"]
    utc_start = RRuleClock("DTSTART:20240101T060000Z\nRRULE:FREQ=DAILY;COUNT=2")
    assert first(utc_start, 5, datetime(2023, 1, 1, tzinfo=UTC)) == [
        datetime(2024, 1, 1, 6, tzinfo=UTC), datetime(2024, 1, 2, 6, tzinfo=UTC)]


def test_rrule_exdate_and_end_date() -> None:
    clock = RRuleClock("RRULE:FREQ=DAILY;BYHOUR=8\nEXDATE:20240229T080000",
                       start_date=datetime(2024, 2, 27, tzinfo=BERLIN),
                       end_date=datetime(2024, 3, 2, 8, tzinfo=BERLIN))
    got = first(clock, 10, datetime(2024, 1, 1, tzinfo=UTC))
    assert [t.date().isoformat() for t in got] == ["2024-02-27", "2024-02-28", "2024-03-01",
                                                    "2024-03-02"]


# ---------------------------------------------------------------------------- merging
def test_schedule_merges_clocks_in_time_order_without_duplicates() -> None:
    berlin_daily = IntervalClock(timedelta(days=1), start_date=datetime(2024, 1, 1, 9,
                                                                        tzinfo=BERLIN))
    same_in_utc = CronClock("0 8 * * *")  # 09:00 in Berlin in winter
    other = CronClock("30 8 * * *", parameter_defaults={"x": 1})
    schedule = Schedule([berlin_daily, same_in_utc, other])
    got = schedule.next(4, after=datetime(2024, 1, 10, tzinfo=UTC), return_events=True)
    assert [e.start_time.astimezone(UTC).strftime("%d %H:%M") for e in got] == [
        "10 08:00", "10 08:30", "11 08:00", "11 08:30"]
    assert [e.parameter_defaults for e in got] == [{}, {"x": 1}, {}, {"x": 1}]
    # the same moment from clocks with different defaults is two events
    twice = Schedule([CronClock("0 8 * * *", parameter_defaults={"a": 1}),
                      CronClock("0 8 * * *", parameter_defaults={"a": 2})])
    events = twice.next(3, after=datetime(2024, 1, 10, tzinfo=UTC), return_events=True)
    assert [e.parameter_defaults["a"] for e in events] == [1, 2, 1]


def test_schedule_orders_by_moment_not_wall_time() -> None:
    # 02:45 CEST comes before the second 02:30 (CET), though its wall time reads later
    second = DatesClock([datetime(2024, 10, 27, 2, 30, fold=1, tzinfo=BERLIN)])
    first_hour = DatesClock([datetime(2024, 10, 27, 2, 45, fold=0, tzinfo=BERLIN)])
    got = Schedule([second, first_hour]).next(2, after=datetime(2024, 10, 26, tzinfo=UTC))
    assert iso(got) == ["2024-10-27T02:45:00+02:00", "2024-10-27T02:30:00+01:00"]
