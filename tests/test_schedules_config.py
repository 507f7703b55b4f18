"""Schedules as JSON: round trips of every type, the JSON schema, error messages, words for
the UI, and the package surface (Prefect's module names, a light import)."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from datetime import datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import jsonschema
import pytest
from dateutil import rrule as du
from pydantic import BaseModel

import jupyter_flows.schedules as schedules
from jupyter_flows.errors import JupyterFlowsError, ScheduleError
from jupyter_flows.schedules import (
    CronClock,
    CronSchedule,
    DatesClock,
    IntervalClock,
    IntervalSchedule,
    RRuleClock,
    RRuleSchedule,
    Schedule,
    adjustments,
    clocks,
    filters,
    schedule_from_config,
)

UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")

CLOCKS = [
    IntervalClock(timedelta(minutes=15)),
    IntervalClock(timedelta(days=1), start_date=datetime(2026, 3, 29, 6, tzinfo=BERLIN),
                  end_date=datetime(2027, 1, 1, tzinfo=UTC), parameter_defaults={"n": [1, 2]},
                  labels=["etl"]),
    CronClock("0 6 * * 1-5", start_date=datetime(2026, 1, 1, tzinfo=BERLIN)),
    CronClock("0 0 13 * 5", day_or=False, labels=["b", "a"]),
    DatesClock([datetime(2026, 12, 24, 18, tzinfo=UTC),
                datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=BERLIN),  # the second 02:30
                datetime(2026, 5, 1, 12, tzinfo=timezone(timedelta(hours=5, minutes=30)))]),
    RRuleClock("RRULE:FREQ=MONTHLY;BYDAY=-1FR;BYHOUR=17",
               start_date=datetime(2026, 1, 1, tzinfo=NEW_YORK)),
]
FILTERS = [
    filters.on_datetime(datetime(2026, 12, 24, 18, tzinfo=BERLIN)),
    filters.on_date(2, 29),
    filters.at_time(time(6, 30)),
    filters.between_datetimes(datetime(2026, 1, 1, tzinfo=UTC),
                              datetime(2026, 6, 1, tzinfo=NEW_YORK)),
    filters.between_dates(12, 1, 2, 28),
    filters.between_times(time(22), time(2)),
    filters.is_weekday,
    filters.is_weekend,
    filters.is_month_start,
    filters.is_month_end,
    filters.is_day_of_week(4),
]
ADJUSTMENTS = [adjustments.add(timedelta(hours=1, minutes=30)), adjustments.next_weekday]
EVERYTHING = [*CLOCKS, *FILTERS, *ADJUSTMENTS,
              Schedule(CLOCKS, filters=FILTERS[:3], or_filters=FILTERS[3:7],
                       not_filters=FILTERS[7:], adjustments=ADJUSTMENTS)]


def ids(value: Any) -> str:
    return value.type


@pytest.mark.parametrize("model", EVERYTHING, ids=ids)
def test_every_type_round_trips_through_json(model: BaseModel) -> None:
    dumped = model.model_dump(mode="json")
    text = json.dumps(dumped)  # plain JSON, nothing Python-only inside
    again = type(model).model_validate(json.loads(text))
    assert again == model
    assert again.model_dump(mode="json") == dumped
    assert type(model).model_validate_json(model.model_dump_json()) == model
    assert dumped["type"] == model.type  # type: ignore[attr-defined]


@pytest.mark.parametrize("model", [*CLOCKS, *FILTERS, *ADJUSTMENTS], ids=ids)
def test_every_type_round_trips_inside_a_schedule(model: Any) -> None:
    fields: dict[str, Any] = {"clocks": [model]} if model in CLOCKS else {
        "clocks": CLOCKS[:1],
        ("adjustments" if model in ADJUSTMENTS else "filters"): [model]}
    schedule = Schedule(**fields)
    dumped = schedule.model_dump(mode="json")
    for config in (dumped, json.dumps(dumped), json.dumps(dumped).encode(), schedule):
        assert schedule_from_config(config) == schedule
        assert schedule_from_config(config).model_dump(mode="json") == dumped


def test_round_trip_keeps_zones_offsets_and_behaviour() -> None:
    schedule = EVERYTHING[-1]
    assert isinstance(schedule, Schedule)
    again = schedule_from_config(json.dumps(schedule.model_dump(mode="json")))
    dates = again.clocks[4]
    assert isinstance(dates, DatesClock)
    assert [d.isoformat() for d in dates.dates] == [
        "2026-12-24T18:00:00+00:00", "2026-10-25T02:30:00+01:00", "2026-05-01T12:00:00+05:30"]
    assert dates.dates[1].tzinfo == BERLIN and dates.dates[1].fold == 1
    daily = again.clocks[1]
    assert isinstance(daily, IntervalClock) and daily.start_date is not None
    assert daily.start_date.tzinfo == BERLIN  # so DST still applies after the trip
    every_clock = Schedule(CLOCKS, adjustments=ADJUSTMENTS)
    after = datetime(2026, 1, 1, tzinfo=UTC)
    expected = every_clock.next(50, after=after, return_events=True)
    assert len(expected) == 50
    again_events = schedule_from_config(every_clock.model_dump_json()).next(
        50, after=after, return_events=True)
    assert again_events == expected


def test_the_json_form_of_a_datetime() -> None:
    clock = DatesClock([datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=BERLIN)])
    assert clock.model_dump(mode="json")["dates"] == [
        {"dt": "2026-10-25T02:30:00+01:00", "tz": "Europe/Berlin"}]
    # also read: ISO text (naive means UTC), and a wall time with a zone
    assert DatesClock.model_validate({"type": "dates", "dates": [
        "2026-01-01T06:00:00Z", "2026-01-01T06:00:00", "2026-01-01T07:00:00+01:00",
        {"dt": "2026-01-01T07:00:00", "tz": "Europe/Berlin"}]}).model_dump(mode="json")[
        "dates"] == [
        {"dt": "2026-01-01T06:00:00+00:00", "tz": "UTC"},
        {"dt": "2026-01-01T06:00:00+00:00", "tz": "UTC"},
        {"dt": "2026-01-01T07:00:00+01:00", "tz": None},
        {"dt": "2026-01-01T07:00:00+01:00", "tz": "Europe/Berlin"}]


def test_json_schema_describes_every_dump() -> None:
    schema = Schedule.model_json_schema()
    assert "type" in schema["required"]
    clock_schema = schema["properties"]["clocks"]["items"]
    assert set(clock_schema["discriminator"]["mapping"]) == {"interval", "cron", "dates",
                                                              "rrule"}
    validator = jsonschema.Draft202012Validator(schema)
    for model in EVERYTHING:
        wrapped = model if isinstance(model, Schedule) else schedule_from_config(
            {"type": "schedule", "clocks": [CLOCKS[0].model_dump(mode="json")],
             **_slot(model)})
        validator.validate(wrapped.model_dump(mode="json"))
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({"type": "schedule", "clocks": [{"type": "cron"}]})


def _slot(model: Any) -> dict[str, Any]:
    if model in CLOCKS:
        return {"clocks": [model.model_dump(mode="json")]}
    key = "adjustments" if model in ADJUSTMENTS else "filters"
    return {key: [model.model_dump(mode="json")]}


def test_models_are_frozen_values() -> None:
    clock = CronClock("0 6 * * *")
    with pytest.raises(Exception, match="frozen"):
        clock.cron = "0 7 * * *"  # type: ignore[misc]
    assert len({CronClock("0 6 * * *"), CronClock("0 6 * * *")}) == 1


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize(("build", "message"), [
    pytest.param(lambda: CronClock("61 * * * *"),
                 "CronClock.cron: not a valid cron expression: '61 * * * *'", id="cron"),
    pytest.param(lambda: CronClock("0 0 30 2 *"), "CronClock: cron '0 0 30 2 *' matches no "
                 "date", id="cron-never"),
    pytest.param(lambda: CronClock(), "CronClock.cron: Field required", id="cron-missing"),
    pytest.param(lambda: IntervalClock(timedelta(0)),
                 "IntervalClock.interval: must be greater than 0, got 0:00:00", id="interval"),
    pytest.param(lambda: IntervalClock(timedelta(hours=1),
                                       start_date=datetime(2026, 2, 1, tzinfo=UTC),
                                       end_date=datetime(2026, 1, 1, tzinfo=UTC)),
                 "IntervalClock: end_date 2026-01-01 00:00 UTC is before start_date "
                 "2026-02-01 00:00 UTC", id="range"),
    pytest.param(lambda: IntervalClock(timedelta(hours=1), start_date={  # type: ignore[arg-type]
        "dt": "2026-01-01T00:00:00", "tz": "Mars/Olympus"}),
                 "IntervalClock.start_date: unknown time zone 'Mars/Olympus'", id="zone"),
    pytest.param(lambda: DatesClock([]), "DatesClock.dates: at least one date is required",
                 id="dates"),
    pytest.param(lambda: DatesClock(["soon"]),  # type: ignore[list-item]
                 "DatesClock.dates[0]: expected an ISO 8601 datetime", id="date-text"),
    pytest.param(lambda: RRuleClock("FREQ=SOMETIMES"), "RRuleClock.rrule: not a valid RFC 5545 "
                 "recurrence rule: 'FREQ=SOMETIMES' (dateutil: invalid 'FREQ': SOMETIMES)",
                 id="rrule"),
    pytest.param(lambda: RRuleClock(du.rruleset()), "RRuleClock.rrule: a dateutil rruleset "
                 "cannot be stored", id="rruleset"),
    pytest.param(lambda: Schedule([]), "Schedule.clocks: at least one clock is required",
                 id="no-clocks"),
    pytest.param(lambda: Schedule([CronClock("* * * * *")], filters=[lambda dt: True]),
                 "Schedule.filters[0]: '<lambda>' is a plain function, which cannot be stored "
                 "as JSON; use one from jupyter_flows.schedules.filters", id="plain-filter"),
    pytest.param(lambda: Schedule([CronClock("* * * * *")], adjustments=[filters.is_weekday]),
                 "Schedule.adjustments[0]", id="filter-as-adjustment"),
    pytest.param(lambda: filters.on_date(2, 30), "OnDate: Feb 30 does not exist", id="on_date"),
    pytest.param(lambda: filters.is_day_of_week(7),
                 "IsDayOfWeek.day_of_week: Input should be less than or equal to 6",
                 id="day_of_week"),
    pytest.param(lambda: filters.between_dates(13, 1, 1, 1),
                 "BetweenDates.start_month: Input should be less than or equal to 12",
                 id="month"),
    pytest.param(lambda: Schedule([CronClock("* * * * *")]).next(-1),
                 "Schedule.next: n must be a whole number >= 0, got -1", id="next"),
])
def test_errors_name_the_field_and_the_rule(build: Any, message: str) -> None:
    with pytest.raises(ScheduleError) as info:
        build()
    assert str(info.value).startswith(message)


@pytest.mark.parametrize(("config", "message"), [
    pytest.param({"type": "schedule", "clocks": [{"type": "cron", "cron": "61 * * * *"}]},
                 "Schedule.clocks[0].cron: not a valid cron expression: '61 * * * *'",
                 id="nested-cron"),
    pytest.param({"type": "schedule", "clocks": [{"type": "interval", "interval": "PT1H",
                                                  "intervall": 1}]},
                 "Schedule.clocks[0].intervall: unknown field; did you mean 'interval'?",
                 id="typo"),
    pytest.param({"type": "schedule", "clocks": [{"type": "cronn"}]},
                 "Schedule.clocks[0]: Input tag 'cronn' found using 'type' does not match",
                 id="tag"),
    pytest.param({"type": "schedule", "clocks": [{"type": "cron", "cron": "* * * * *"}],
                  "filters": [{"type": "between_times", "start": "25:00", "end": "02:00"}]},
                 "Schedule.filters[0].start: Input should be in a valid time format",
                 id="nested-filter"),
    pytest.param({"clocks": []}, "schedule config has no 'type'; known: schedule, interval, "
                 "cron, dates, rrule", id="no-type"),
    pytest.param("{not json", "schedule config is not valid JSON", id="json"),
    pytest.param(42, "a schedule config must be a dict, JSON text, a type name or a Schedule "
                 "or a Clock, got int",
                 id="int"),
])
def test_config_errors(config: Any, message: str) -> None:
    with pytest.raises(ScheduleError) as info:
        schedule_from_config(config)
    assert str(info.value).startswith(message)


def test_bare_clock_configs_become_schedules() -> None:
    clock = CronClock("0 6 * * *")
    assert schedule_from_config(clock) == Schedule([clock])
    assert schedule_from_config(clock.model_dump(mode="json")) == Schedule([clock])


def test_error_is_part_of_the_tree() -> None:
    assert issubclass(ScheduleError, JupyterFlowsError)
    assert issubclass(ScheduleError, ValueError)  # as Prefect's were


# ------------------------------------------------------------------------------ words
@pytest.mark.parametrize(("schedule", "words"), [
    (CronSchedule("0 6 * * 1-5", start_date=datetime(2026, 1, 1, tzinfo=BERLIN)),
     "every weekday at 06:00 Europe/Berlin"),
    (CronSchedule("*/15 * * * *"), "every 15 minutes"),
    (CronSchedule("0 */2 * * *"), "every 2 hours"),
    (CronSchedule("0 9 * * sat,sun"), "every Saturday and Sunday at 09:00 UTC"),
    (CronSchedule("0 9,17 * * mon"), "every Monday at 09:00 and 17:00 UTC"),
    (CronSchedule("0 9 1,15 * *"), "on the 1st and 15th of every month at 09:00 UTC"),
    (CronSchedule("0 0 L * *"), "on the last day of every month at 00:00 UTC"),
    (CronSchedule("*/10 * * * 1-5", start_date=datetime(2026, 1, 1, tzinfo=NEW_YORK)),
     "every 10 minutes on weekdays (America/New_York)"),
    (CronSchedule("0 9 13 * 5", day_or=False),
     "cron '0 9 13 * 5' (UTC, day and weekday both matching)"),
    (CronSchedule("0 0 * * 5#2"), "cron '0 0 * * 5#2' (UTC)"),
    (IntervalSchedule(interval=timedelta(minutes=15)), "every 15 minutes"),
    (IntervalSchedule(interval=timedelta(hours=1)), "every hour"),
    (IntervalSchedule(interval=timedelta(hours=1, minutes=30)), "every 1 hour 30 minutes"),
    (IntervalSchedule(datetime(2026, 1, 5, 6, tzinfo=BERLIN), timedelta(days=1)),
     "every day at 06:00 Europe/Berlin"),
    (IntervalSchedule(datetime(2026, 1, 5, 6, tzinfo=BERLIN), timedelta(days=7),
                      end_date=datetime(2027, 1, 1, tzinfo=UTC)),
     "every week on Monday at 06:00 Europe/Berlin until 2027-01-01 00:00 UTC"),
    (Schedule([DatesClock([datetime(2026, 12, 24, 18, tzinfo=UTC)])]),
     "at 2026-12-24 18:00 UTC"),
    (RRuleSchedule("RRULE:FREQ=WEEKLY;BYDAY=MO", start_date=datetime(2026, 1, 1, 9,
                                                                      tzinfo=BERLIN)),
     "rrule FREQ=WEEKLY;BYDAY=MO from 2026-01-01 09:00 Europe/Berlin"),
    (Schedule([IntervalClock(timedelta(hours=1))],
              filters=[filters.is_weekday, filters.between_times(time(9), time(17))],
              not_filters=[filters.on_date(12, 25)],
              adjustments=[adjustments.add(timedelta(minutes=5)), adjustments.next_weekday]),
     "every hour, only on weekdays and between 09:00 and 17:00, except on Dec 25, moved "
     "5 minutes later, then moved to Monday when on a weekend"),
])
def test_describe(schedule: Schedule, words: str) -> None:
    assert schedule.describe() == words


# ---------------------------------------------------------------------- the surface
def test_shortcuts_build_one_clock_schedules() -> None:
    start = datetime(2026, 1, 1, tzinfo=BERLIN)
    assert IntervalSchedule(start, timedelta(hours=2)) == Schedule(
        [IntervalClock(timedelta(hours=2), start_date=start)])
    assert CronSchedule("0 6 * * *", start, day_or=False) == Schedule(
        [CronClock("0 6 * * *", start_date=start, day_or=False)])
    assert RRuleSchedule("RRULE:FREQ=DAILY", start) == Schedule(
        [RRuleClock("RRULE:FREQ=DAILY", start_date=start)])
    with pytest.raises(ScheduleError, match=r"IntervalClock\.interval: Field required"):
        IntervalSchedule(start)


def test_prefect_module_names() -> None:
    assert clocks.CronClock is CronClock
    assert filters.is_weekday(datetime(2026, 1, 5)) is True  # a Monday
    assert adjustments.next_weekday(datetime(2026, 1, 3, tzinfo=UTC)) == datetime(
        2026, 1, 5, tzinfo=UTC)
    public = {name for name, value in vars(schedules).items() if not name.startswith("_")
              and name != "annotations" and not isinstance(value, types.ModuleType)}
    public |= {"adjustments", "clocks", "filters"}  # the submodules Prefect users import
    assert set(schedules.__all__) == public
    assert schedules.__all__ == sorted(schedules.__all__)


def test_import_stays_light() -> None:
    code = (
        "import sys, jupyter_flows\n"
        "from jupyter_flows import Flow\n"
        "from jupyter_flows.schedules import Schedule, IntervalClock, filters\n"
        "from datetime import timedelta\n"
        "Schedule([IntervalClock(timedelta(hours=1))], filters=[filters.is_weekday]).next(2)\n"
        "print(sorted(m for m in ('croniter', 'dateutil', 'dask') if m in sys.modules))\n"
        "from jupyter_flows.schedules import CronClock\n"
        "CronClock('0 6 * * *')\n"
        "print('croniter' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["[]", "True"]
