"""``%flow schedule``: give a notebook's flow a schedule and have the backend run it.

``--cron EXPR [--tz ZONE]`` or ``--every 15m`` sets the flow's schedule (one clock, whose
``--param`` values are the runs' parameters) and registers the flow with the schedule
active; ``--off`` pauses the registered flow's schedule and drops it from the notebook's
flow, so a later ``%flow submit`` does not turn it back on.

The clocks start at a fixed moment (2019-01-01 in the chosen zone), not "now", so running
the same magic again gives the same spec and registers no new version.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from jupyter_flows.errors import ScheduleError

if TYPE_CHECKING:
    from jupyter_flows.api import FlowSchedule
    from jupyter_flows.client.client import Client
    from jupyter_flows.core.flow import Flow
    from jupyter_flows.schedules import Schedule

__all__ = ["make_schedule", "parse_every", "pause_flow_schedule", "schedule_flow",
           "schedule_lines"]

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
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    from jupyter_flows.schedules import CronClock, IntervalClock, Schedule

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


def schedule_flow(flow: Flow, schedule: Schedule, client: Client) -> FlowSchedule:
    """Set ``flow``'s schedule and register it with the schedule active."""
    from jupyter_flows.deploy.register import register

    flow.schedule = schedule
    registration = register(flow, client=client, set_schedule_active=True)
    return client.get_schedule(registration.id)


def pause_flow_schedule(name: str, client: Client, project: str = "default") -> FlowSchedule:
    """Pause the schedule of the registered flow ``name``."""
    versions = client.list_flows(name=name, project=project, limit=1).items
    if not versions:
        raise ScheduleError(f"flow {name!r} is not registered in project {project!r}: there "
                            f"is no schedule to turn off")
    return client.pause_schedule(versions[0].id)


def schedule_lines(shown: FlowSchedule) -> list[str]:
    head = f"flow {shown.name!r} (version {shown.version})"
    if not shown.active:
        return [f"{head}: schedule paused; its runs not yet started were deleted"]
    lines = [f"{head} is scheduled on the backend: {shown.description}"]
    if shown.next_times:
        zone = getattr(shown.schedule.clocks[0], "tz", None) if shown.schedule else None
        clock = "%H:%M:%S" if any(t.second for t in shown.next_times) else "%H:%M"
        times = ", ".join(f"{t.astimezone(zone):%Y-%m-%d {clock} %Z}"
                          for t in shown.next_times)
        lines.append(f"  next: {times}")
    lines.append("  an agent runs each at its time; `%flow schedule --off` pauses it")
    return lines
