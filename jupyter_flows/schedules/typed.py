"""Schedules from the words a user types: ``--every 15m`` or ``--cron EXPR --tz ZONE``.

The notebook magic (``%flow schedule``) and the config widget's schedule section both build
one-clock schedules here, so the same words give the same spec. The clocks start at a fixed
moment (2019-01-01 in the chosen zone), not "now", so the same words give an equal schedule
every time and registering it again makes no new flow version.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from jupyter_flows.errors import ScheduleError
from jupyter_flows.schedules.clocks import CronClock, IntervalClock
from jupyter_flows.schedules.schedule import Schedule

__all__ = ["make_schedule", "parse_every"]

_UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}
_EVERY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$")


def parse_every(text: str) -> timedelta:
    """``15m``, ``30s``, ``2h``, ``1d``, ``1w`` or an ISO 8601 duration (``PT15M``)."""
    match = _EVERY.match(text.lower())
    if match and match.group(2) in _UNITS:
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    else:
        from pydantic import TypeAdapter, ValidationError

        try:
            seconds = TypeAdapter(timedelta).validate_python(text).total_seconds()
        except ValidationError:
            raise ScheduleError(f"--every: expected a duration like 15m, 30s, 2h, 1d or "
                                f"PT15M, got {text!r}") from None
    if seconds <= 0:
        raise ScheduleError(f"--every: the interval must be greater than 0, got {text!r}")
    return timedelta(seconds=seconds)


def make_schedule(*, cron: str | None = None, every: str | None = None,
                  tz: str | None = None, params: Mapping[str, Any] | None = None) -> Schedule:
    """One clock, from ``--cron`` (in ``--tz``, default UTC) or ``--every``."""
    try:
        zone = ZoneInfo(tz or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"--tz: unknown time zone {tz!r} (an IANA name like "
                            f"Europe/Berlin)") from None
    start = datetime(2019, 1, 1, tzinfo=zone)
    defaults = dict(params or {})
    if cron is not None:
        return Schedule(clocks=[CronClock(cron, start_date=start, parameter_defaults=defaults)])
    if every is None:
        raise ScheduleError("give --cron EXPR, --every DURATION or --off")
    return Schedule(clocks=[IntervalClock(parse_every(every), start_date=start,
                                          parameter_defaults=defaults)])
