"""Time zones and wall-clock arithmetic shared by clocks, filters and adjustments.

The rules, in one place:

- A datetime keeps its IANA zone (``zoneinfo``); a naive datetime means UTC, as in Prefect.
  In JSON a datetime is ``{"dt": "2026-03-29T02:30:00+02:00", "tz": "Europe/Berlin"}``:
  the offset fixes the instant (so the second 02:30 of a repeated hour survives a round
  trip) and the zone name keeps the daylight-saving rules for the times that follow.
- A wall-clock time is placed in its zone by :func:`localize`: a time the zone skips
  (02:30 on the night clocks go forward) lands as far past the change as it was meant
  to be past the hour before (03:30), and a time the zone repeats (02:30 on the night
  clocks go back) means its first occurrence.
- :func:`shift` moves by a duration: by a day or more in wall-clock time (a daily time
  stays at 06:00 across daylight saving), by less in elapsed time (an hourly one stays
  an hour apart).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema
from pydantic_core import PydanticCustomError

DAY = timedelta(days=1)
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
DEFAULT_START = datetime(2019, 1, 1, tzinfo=timezone.utc)
"""Where an interval or rrule clock without a ``start_date`` counts from (Prefect 1.x's
default)."""


def rule_error(kind: str, message: str) -> PydanticCustomError:
    """A validation error whose text is exactly ``message`` (no "Value error, " prefix)."""
    return PydanticCustomError(kind, "{message}", {"message": message})


def now_utc() -> datetime:
    return datetime.now(timezone.utc)


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name``; an unknown name raises ``ValueError`` saying so."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}; expected an IANA name like "
                         f"'Europe/Berlin' or 'UTC'") from None


def zone_name(tz: tzinfo | None) -> str | None:
    """The IANA name of ``tz``; ``"UTC"`` for UTC; ``None`` for another fixed offset."""
    if isinstance(tz, ZoneInfo):
        return tz.key
    if tz is not None and tz.utcoffset(None) == timedelta(0):
        return "UTC"
    return None


def zone_label(dt: datetime) -> str:
    """How a datetime's zone reads in words: ``Europe/Berlin``, ``UTC`` or ``+05:30``."""
    name = zone_name(dt.tzinfo)
    if name is not None:
        return name
    return dt.strftime("%z")[:3] + ":" + dt.strftime("%z")[3:]


def as_aware(value: datetime) -> datetime:
    """``value`` with a zone jupyter-flows can keep: naive means UTC; pytz and pendulum
    zones become the ``zoneinfo`` zone of the same name; fixed offsets stay fixed."""
    tz = value.tzinfo
    if tz is None or value.utcoffset() is None:
        return value.replace(tzinfo=timezone.utc)
    if isinstance(tz, ZoneInfo | timezone):
        return value
    for attr in ("key", "zone", "name"):  # zoneinfo-like, pytz, pendulum
        name = getattr(tz, attr, None)
        if isinstance(name, str):
            try:
                return value.astimezone(ZoneInfo(name))
            except (ZoneInfoNotFoundError, ValueError):
                break
    offset = value.utcoffset()
    if type(tz).__name__ == "TzInfo" and offset is not None:  # pydantic's fixed offsets
        return value.replace(tzinfo=timezone.utc if not offset else timezone(offset))
    raise ValueError(f"time zone {tz!r} has no IANA name; use zoneinfo.ZoneInfo('Area/City')")


def instant(dt: datetime) -> timedelta:
    """An exact sort key for the moment ``dt`` is (aware datetimes in one zone compare by
    wall time, so the two 02:30s of a repeated hour would compare equal)."""
    return as_aware(dt) - EPOCH


def wall(dt: datetime, tz: tzinfo) -> datetime:
    """The naive wall-clock time of the moment ``dt`` in ``tz``."""
    return as_aware(dt).astimezone(tz).replace(tzinfo=None)


def localize(naive: datetime, tz: tzinfo) -> datetime:
    """The moment the wall-clock time ``naive`` means in ``tz`` (see the module docstring)."""
    first = naive.replace(tzinfo=tz, fold=0)
    return first.astimezone(timezone.utc).astimezone(tz)


def shift(dt: datetime, delta: timedelta) -> datetime:
    """``dt`` moved by ``delta``: wall-clock for a day or more, elapsed time below that."""
    dt = as_aware(dt)
    if abs(delta) >= DAY:
        assert dt.tzinfo is not None
        return localize(dt.replace(tzinfo=None) + delta, dt.tzinfo)
    return (dt.astimezone(timezone.utc) + delta).astimezone(dt.tzinfo)


def skipped_before(after: datetime) -> timedelta:
    """How much wall-clock time the zone of ``after`` skipped in the day before it.

    A clock searching wall-clock times from ``after`` must start that much earlier: a
    time inside the gap (02:45 on the night clocks jump from 02:00 to 03:00) lands after
    the jump (03:45) even though its wall time reads earlier than ``after`` (03:10).
    """
    gap = after.utcoffset() - (after - DAY).utcoffset()  # type: ignore[operator]
    return max(gap, timedelta(0))


def format_datetime(dt: datetime) -> str:
    """``2026-12-24 18:00 UTC``: minutes always, seconds only when set."""
    text = dt.strftime("%Y-%m-%d %H:%M")
    if dt.second or dt.microsecond:
        text += dt.strftime(":%S")
    return f"{text} {zone_label(dt)}"


# ----------------------------------------------------------------- the pydantic field type
def _parse(value: Any) -> datetime:
    try:
        if isinstance(value, datetime):
            return as_aware(value)
        if isinstance(value, str):
            return as_aware(_from_iso(value))
        if isinstance(value, Mapping):
            return _from_mapping(value)
    except ValueError as exc:
        raise rule_error("zoned_datetime", str(exc)) from None
    raise rule_error(
        "zoned_datetime",
        "expected a datetime, an ISO 8601 string or {'dt': ..., 'tz': ...}, "
        f"got {type(value).__name__}",
    )


def _from_iso(text: str) -> datetime:
    stripped = text.strip()
    if stripped.endswith(("Z", "z")):  # Python 3.10's fromisoformat does not read "Z"
        stripped = stripped[:-1] + "+00:00"
    try:
        return datetime.fromisoformat(stripped)
    except ValueError:
        raise ValueError(f"expected an ISO 8601 datetime like '2026-12-24T18:00:00+01:00', "
                         f"got {text!r}") from None


def _from_mapping(value: Mapping[str, Any]) -> datetime:
    unknown = sorted(set(value) - {"dt", "tz"})
    if unknown:
        raise ValueError(f"unknown key {unknown[0]!r}; a datetime is {{'dt': ..., 'tz': ...}}")
    raw, name = value.get("dt"), value.get("tz")
    if not isinstance(raw, str | datetime):
        raise ValueError(f"'dt' must be an ISO 8601 string, got {raw!r}")
    dt = _from_iso(raw) if isinstance(raw, str) else raw
    if name is None:
        return as_aware(dt)
    if not isinstance(name, str):
        raise ValueError(f"'tz' must be an IANA zone name, got {name!r}")
    tz = zone(name)
    # a naive 'dt' is a wall time in that zone; with an offset it is that moment
    return localize(dt, tz) if dt.tzinfo is None else dt.astimezone(tz)


def _dump(dt: datetime) -> dict[str, str | None]:
    return {"dt": dt.isoformat(), "tz": zone_name(dt.tzinfo)}


ZonedDateTime = Annotated[
    datetime,
    BeforeValidator(_parse),
    PlainSerializer(_dump, when_used="json"),
    WithJsonSchema({
        "anyOf": [
            {"type": "object", "required": ["dt"], "additionalProperties": False,
             "properties": {
                 "dt": {"type": "string", "format": "date-time",
                        "description": "ISO 8601, with the offset of the moment meant"},
                 "tz": {"type": ["string", "null"],
                        "description": "IANA zone, e.g. 'Europe/Berlin'; null: a fixed offset"},
             }},
            {"type": "string", "format": "date-time",
             "description": "ISO 8601; without an offset it is UTC"},
        ],
    }),
]
"""An aware datetime that keeps its IANA zone, in JSON as ``{"dt": ISO, "tz": name}``."""
