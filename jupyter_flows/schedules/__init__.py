"""Schedules: when a flow runs, as JSON-able values (Prefect 1.x's ``prefect.schedules``).

A :class:`Schedule` takes candidate times from its clocks (``IntervalClock``,
``CronClock``, ``DatesClock``, ``RRuleClock``), keeps those its filters pass
(``filters.is_weekday``, ``filters.between_times(...)``) and moves them by its
adjustments (``adjustments.next_weekday``). Every piece is a frozen pydantic model with a
``type`` tag: ``schedule.model_dump(mode="json")`` and :func:`schedule_from_config` round
trip, ``Schedule.model_json_schema()`` describes them, ``schedule.describe()`` puts them in
words. croniter and dateutil are imported only when a cron or rrule clock is used.
"""

from __future__ import annotations

from jupyter_flows.errors import ScheduleError
from jupyter_flows.schedules import adjustments, clocks, filters
from jupyter_flows.schedules.clocks import (
    ClockEvent,
    CronClock,
    DatesClock,
    IntervalClock,
    RRuleClock,
)
from jupyter_flows.schedules.schedule import (
    CronSchedule,
    IntervalSchedule,
    RRuleSchedule,
    Schedule,
    schedule_from_config,
)

__all__ = [
    "ClockEvent",
    "CronClock",
    "CronSchedule",
    "DatesClock",
    "IntervalClock",
    "IntervalSchedule",
    "RRuleClock",
    "RRuleSchedule",
    "Schedule",
    "ScheduleError",
    "adjustments",
    "clocks",
    "filters",
    "schedule_from_config",
]
