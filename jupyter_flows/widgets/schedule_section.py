"""The schedule part of the config widget: none, every N, or a cron expression in a time zone,
with the next five times previewed in that zone as you type and errors next to the field.

It builds the same one-clock schedules as ``%flow schedule`` (``make_schedule``), so a
schedule chosen here and one typed as a magic give the same spec. A flow whose schedule is
something else (several clocks, filters, an rrule) keeps it unless another choice is made.
"""

from __future__ import annotations

import html
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import ipywidgets as widgets

from jupyter_flows.errors import ScheduleError
from jupyter_flows.schedules.typed import make_schedule
from jupyter_flows.widgets.schema_form import ERROR_COLOR

if TYPE_CHECKING:
    from jupyter_flows.schedules import Schedule

__all__ = ["PREVIEW_COUNT", "ScheduleSection"]

PREVIEW_COUNT = 5
NONE, EVERY, CRON, KEEP = "none", "every", "cron", "keep"
_PLACEHOLDERS = {EVERY: "15m, 30s, 2h, 1d or PT15M", CRON: "0 6 * * 1-5"}


def _zones() -> list[str]:
    from zoneinfo import available_timezones

    return sorted(available_timezones())


class ScheduleSection(widgets.VBox):
    """Pick a flow's schedule; ``schedule()`` gives it (None: no schedule) or raises
    ``ScheduleError`` with the message shown next to the field."""

    def __init__(self, current: Schedule | None = None) -> None:
        super().__init__()
        self._current = current
        self.problem: ScheduleError | None = None  # why the fields make no schedule
        kind, value, zone = _prefill(current)
        options = [("No schedule", NONE), ("Every", EVERY), ("Cron", CRON)]
        if kind == KEEP:
            options.append(("Keep the flow's schedule", KEEP))
        self.kind = widgets.Dropdown(options=options, value=kind, description="Schedule",
                                     tooltip="when the backend runs the registered flow")
        self.value = widgets.Text(value=value, continuous_update=True,
                                  layout=widgets.Layout(width="16em"))
        self.zone = widgets.Combobox(value=zone, options=_zones(), ensure_option=False,
                                     continuous_update=True, placeholder="UTC",
                                     description="time zone",
                                     layout=widgets.Layout(width="22em"))
        self.error = widgets.HTML(value="")
        self.preview = widgets.HTML(value="")
        for control in (self.kind, self.value, self.zone):
            control.observe(lambda _change: self.refresh(), names="value")
        self.children = [widgets.HBox([self.kind, self.value, self.zone]), self.error,
                         self.preview]
        self.refresh()

    def schedule(self) -> Schedule | None:
        """The chosen schedule, built from the fields; ``ScheduleError`` when they are wrong."""
        kind = self.kind.value
        if kind == NONE:
            return None
        if kind == KEEP:
            return self._current
        text = self.value.value.strip()
        if not text:
            what = "a cron expression" if kind == CRON else "an interval"
            raise ScheduleError(f"give {what}, like {_PLACEHOLDERS[kind].split(',')[0]}")
        zone = self.zone.value.strip() or None
        if kind == CRON:
            return make_schedule(cron=text, tz=zone)
        return make_schedule(every=text, tz=zone)

    def refresh(self, now: datetime | None = None) -> Schedule | None:
        """Show the fields the kind needs, then the next times or the error; returns the
        schedule built (None when there is none, or ``problem`` says why it cannot be)."""
        kind = self.kind.value
        typed = kind in (EVERY, CRON)
        self.value.layout.display = "" if typed else "none"
        self.zone.layout.display = "" if kind == CRON else "none"
        if typed:
            self.value.placeholder = _PLACEHOLDERS[kind]
        self.problem = None
        try:
            schedule = self.schedule()
        except ScheduleError as exc:
            self.problem = exc
            # the magic's messages name its options (--tz: ...); here they name the field
            text = str(exc).removeprefix("--").replace("tz: ", "time zone: ", 1)
            self.error.value = (f"<span style='color:{ERROR_COLOR}'>"
                                f"{html.escape(text)}</span>")
            self.preview.value = ""
            return None
        self.error.value = ""
        self.preview.value = "" if schedule is None else _preview(schedule, self._zone(), now)
        return schedule

    def _zone(self) -> Any:
        from zoneinfo import ZoneInfo

        return ZoneInfo(self.zone.value.strip() or "UTC") if self.kind.value == CRON else None


def _preview(schedule: Schedule, zone: Any, now: datetime | None) -> str:
    after = now or datetime.now(timezone.utc)
    times = schedule.next(PREVIEW_COUNT, after=after)
    if not times:
        return "<i>no upcoming runs</i>"
    shown = [(t.astimezone(zone) if zone else t.astimezone()).strftime(
        "%a %Y-%m-%d %H:%M:%S %Z") for t in times]
    items = "".join(f"<li>{html.escape(line)}</li>" for line in shown)
    return (f"<div>{html.escape(schedule.describe())}; next {len(times)} runs:</div>"
            f"<ul style='margin:2px 0'>{items}</ul>")


def _prefill(current: Schedule | None) -> tuple[str, str, str]:
    """The fields that show ``current`` when the section (or ``%flow schedule``) would make
    that very schedule from them; anything else is kept as it is."""
    if current is None:
        return NONE, "", "UTC"
    from jupyter_flows.schedules import CronClock, IntervalClock

    if len(current.clocks) == 1:
        [clock] = current.clocks
        zone = str(clock.start_date.tzinfo) if clock.start_date else "UTC"
        candidates: list[tuple[str, str, str]] = []
        if isinstance(clock, CronClock):
            candidates.append((CRON, clock.cron, zone))
        if isinstance(clock, IntervalClock):
            candidates.append((EVERY, f"{clock.interval.total_seconds():g}s", "UTC"))
        for kind, value, tz in candidates:
            try:
                made = (make_schedule(cron=value, tz=tz) if kind == CRON
                        else make_schedule(every=value, tz=tz))
            except ScheduleError:
                continue
            if made == current:
                return kind, value, tz
    return KEEP, "", "UTC"
