"""Schedules in words, for the UI: "every weekday at 06:00 Europe/Berlin", "every 15 minutes".

Common shapes get a phrase; anything else falls back to its cron or rrule text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time, timedelta

from jupyter_flows.schedules._time import zone_label

DAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
               "Dec"]
_UNITS = [("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)]


def join(items: Sequence[str], word: str = "and") -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {word} {items[-1]}"


def clock_time(value: time | datetime) -> str:
    """``06:00``, or ``06:00:30`` when seconds are set."""
    return value.strftime("%H:%M:%S" if value.second or value.microsecond else "%H:%M")


def duration(value: timedelta) -> str:
    """``1 hour 30 minutes``; ``15 minutes``; ``hour`` alone reads as ``1 hour``."""
    seconds = int(value.total_seconds())
    parts = []
    for name, size in _UNITS:
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {name}{'s' if count != 1 else ''}")
    if value.microseconds:
        parts.append(f"{value.microseconds} microseconds")
    return " ".join(parts) or "0 seconds"


def interval(step: timedelta, start: datetime) -> str:
    """An interval clock: ``every 15 minutes``, ``every day at 06:00 Europe/Berlin``."""
    if step % timedelta(days=1):
        text = duration(step)
        return f"every {text.removeprefix('1 ')}" if text.count(" ") == 1 else f"every {text}"
    days = step.days
    at = f"at {clock_time(start)} {zone_label(start)}"
    if days == 1:
        return f"every day {at}"
    if days % 7 == 0:
        weeks = "week" if days == 7 else f"{days // 7} weeks"
        return f"every {weeks} on {DAY_NAMES[start.weekday()]} {at}"
    return f"every {days} days {at}"


def cron(expression: str, day_or: bool, start: datetime | None) -> str:
    """A cron clock: ``every weekday at 06:00 Europe/Berlin``, else the expression itself."""
    label = zone_label(start) if start is not None else "UTC"
    # a phrase never names both a day of the month and a weekday, so day_or only shows in
    # the fallback
    return _cron_phrase(expression, label) or (
        f"cron '{expression}' ({label}{'' if day_or else ', day and weekday both matching'})")


def _cron_phrase(expression: str, label: str) -> str | None:
    from croniter import croniter

    if len(expression.split()) != 5 and not expression.startswith("@"):
        return None  # seconds or years fields: leave it to the expression
    fields, nth = croniter.expand(expression)
    minutes, hours, doms, months, dows = fields
    if nth or months != ["*"]:
        return None
    days = _days(doms, dows)
    if days is None:
        return None
    prefix, suffix = days
    every = _periodic(minutes, hours)
    if every is not None:
        return f"{every} {suffix} ({label})" if suffix else every
    if len(minutes) * len(hours) > 4 or "*" in minutes or "*" in hours:
        return None
    times = join([f"{int(h):02d}:{int(m):02d}" for h in hours for m in minutes])
    return f"{prefix} at {times} {label}"


def _periodic(minutes: Sequence[int | str], hours: Sequence[int | str]) -> str | None:
    """``every minute`` / ``every 15 minutes`` / ``every 2 hours``, when the fields step
    evenly from zero."""
    if list(hours) == ["*"]:
        if list(minutes) == ["*"]:
            return "every minute"
        step = _step(minutes, 60)
        if step:
            return f"every {step} minutes"
        if len(minutes) == 1:
            return "every hour" if minutes == [0] else f"every hour at minute {minutes[0]}"
        return None
    if len(minutes) == 1:
        step = _step(hours, 24)
        if step:
            at = "" if minutes == [0] else f" at minute {minutes[0]}"
            return f"every {step} hours{at}"
    return None


def _step(values: Sequence[int | str], period: int) -> int | None:
    if len(values) < 2 or "*" in values:
        return None
    step = int(values[1]) - int(values[0])
    if values[0] != 0 or period % step or list(values) != list(range(0, period, step)):
        return None
    return step


def _days(doms: Sequence[int | str], dows: Sequence[int | str]) -> tuple[str, str] | None:
    """``(prefix, suffix)`` phrases for the day fields ("every weekday", "on weekdays"); the
    suffix is empty for every day; ``None`` when there is no phrase for them."""
    if doms == ["*"] and dows == ["*"]:
        return "every day", ""
    if doms == ["*"]:
        days = sorted({int(d) % 7 for d in dows})  # cron: 0 and 7 are Sunday
        if days == [1, 2, 3, 4, 5]:
            return "every weekday", "on weekdays"
        if days == [0, 6]:
            return "every Saturday and Sunday", "on weekends"
        names = [DAY_NAMES[(d - 1) % 7] for d in days]
        if days and days[0] == 0:  # Sunday reads last
            names = names[1:] + names[:1]
        return f"every {join(names)}", f"on {join([n + 's' for n in names])}"
    if dows == ["*"] and doms == ["l"]:
        return "on the last day of every month", "on the last day of the month"
    if dows == ["*"] and "*" not in doms and "l" not in doms and len(doms) <= 3:
        ordinals = join([_ordinal(int(d)) for d in doms])
        return f"on the {ordinals} of every month", f"on the {ordinals} of the month"
    return None


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def month_day(month: int, day: int) -> str:
    return f"{MONTH_NAMES[month - 1]} {day}"
