"""The schedule section of the config widget: next times previewed in the chosen zone,
errors next to the field, Apply and Submit giving the flow (and the backend) the schedule."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter
from widget_support import backend_fixture, offline_fixture  # noqa: F401 (fixtures)

from jupyter_flows import Flow, Local, task
from jupyter_flows.client.client import Client
from jupyter_flows.errors import ScheduleError
from jupyter_flows.schedules import CronClock, IntervalClock, Schedule
from jupyter_flows.schedules.typed import make_schedule
from jupyter_flows.widgets.config import flow_config_widget
from jupyter_flows.widgets.schedule_section import PREVIEW_COUNT, ScheduleSection

BERLIN = ZoneInfo("Europe/Berlin")


@task
def hello() -> str:
    return "hello"


def make_flow(**settings: object) -> Flow:
    with Flow("scheduled-in-widget", **settings) as flow:  # type: ignore[arg-type]
        hello()
    return flow


def shown_error(section: ScheduleSection) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", section.error.value))


def previewed(section: ScheduleSection) -> list[str]:
    return re.findall(r"<li>(.*?)</li>", section.preview.value)


def test_cron_preview_is_the_next_five_times_in_the_zone_across_a_dst_change() -> None:
    section = ScheduleSection()
    section.kind.value = "cron"
    section.value.value = "0 6 * * 1-5"
    section.zone.value = "Europe/Berlin"
    now = datetime(2026, 3, 26, 12, 0, tzinfo=timezone.utc)  # a Thursday; DST starts Sunday
    section.refresh(now=now)

    times = croniter("0 6 * * 1-5", now.astimezone(BERLIN))
    expected = [times.get_next(datetime).strftime("%a %Y-%m-%d %H:%M:%S %Z")
                for _ in range(PREVIEW_COUNT)]
    assert previewed(section) == expected
    assert expected[0].endswith("CET") and expected[-1].endswith("CEST")
    described = make_schedule(cron="0 6 * * 1-5", tz="Europe/Berlin").describe()
    assert html.unescape(section.preview.value).startswith(f"<div>{described}; next 5 runs")
    assert section.error.value == ""


def test_every_preview_steps_by_the_interval() -> None:
    section = ScheduleSection()
    section.kind.value = "every"
    section.value.value = "15m"
    now = datetime(2026, 6, 1, 10, 7, tzinfo=timezone.utc)
    section.refresh(now=now)

    start = datetime(2019, 1, 1, tzinfo=timezone.utc)  # what %flow schedule --every uses
    first = start + ((now - start) // timedelta(minutes=15) + 1) * timedelta(minutes=15)
    expected = [(first + i * timedelta(minutes=15)).astimezone().strftime(
        "%a %Y-%m-%d %H:%M:%S %Z") for i in range(PREVIEW_COUNT)]
    assert previewed(section) == expected


@pytest.mark.parametrize(("kind", "value", "zone", "message"), [
    ("cron", "61 * * * *", "UTC", "cron"),
    ("cron", "0 6 * * 1-5", "Mars/Olympus", "time zone: unknown time zone 'Mars/Olympus'"),
    ("every", "soon", "UTC", "every: expected a duration like 15m"),
    ("every", "", "UTC", "give an interval, like 15m"),
])
def test_a_wrong_field_shows_its_error_and_no_preview(kind: str, value: str, zone: str,
                                                      message: str) -> None:
    section = ScheduleSection()
    section.kind.value = kind
    section.zone.value = zone
    section.value.value = value
    assert message in shown_error(section)
    assert section.preview.value == ""
    with pytest.raises(ScheduleError):
        section.schedule()


def test_typing_a_fix_clears_the_error() -> None:
    section = ScheduleSection()
    section.kind.value = "cron"
    section.value.value = "0 6 * *"
    assert section.error.value != ""
    section.value.value = "0 6 * * *"
    assert section.error.value == ""
    assert len(previewed(section)) == PREVIEW_COUNT


def test_apply_sets_the_schedule_and_a_new_widget_shows_it_again(offline: None) -> None:
    flow = make_flow()
    widget = flow_config_widget(flow)
    section = widget.schedule_section
    section.kind.value = "cron"
    section.value.value = "30 2 * * *"
    section.zone.value = "Europe/Berlin"
    widget.apply_button.click()
    assert flow.schedule == make_schedule(cron="30 2 * * *", tz="Europe/Berlin")
    assert widget.status_text.startswith("Applied to flow 'scheduled-in-widget'")

    reopened = flow_config_widget(flow).schedule_section
    assert (reopened.kind.value, reopened.value.value, reopened.zone.value) == (
        "cron", "30 2 * * *", "Europe/Berlin")
    assert reopened.schedule() == flow.schedule


def test_no_schedule_clears_it_and_a_wrong_schedule_changes_nothing(offline: None) -> None:
    flow = make_flow(schedule=make_schedule(every="90s"))
    widget = flow_config_widget(flow)
    section = widget.schedule_section
    assert (section.kind.value, section.value.value) == ("every", "90s")
    section.kind.value = "cron"
    section.value.value = "every morning"
    with pytest.raises(ScheduleError, match="schedule: "):
        widget.apply()
    assert flow.schedule == make_schedule(every="90s")
    assert widget.status_text.startswith("Not applied")
    section.kind.value = "none"
    widget.apply()
    assert flow.schedule is None


def test_a_schedule_the_section_cannot_edit_is_kept(offline: None) -> None:
    schedule = Schedule(clocks=[CronClock("0 6 * * *"), IntervalClock(timedelta(hours=1))])
    flow = make_flow(schedule=schedule)
    widget = flow_config_widget(flow)
    assert widget.schedule_section.kind.value == "keep"
    widget.apply()
    assert flow.schedule == schedule


def test_submit_registers_the_schedule_active(backend: str, tmp_path: Path) -> None:
    client = Client(backend)
    flow = make_flow(storage=Local(directory=str(tmp_path / "flows")))
    widget = flow_config_widget(flow, client=client)
    widget.schedule_section.kind.value = "every"
    widget.schedule_section.value.value = "1h"
    widget.submit_button.click()

    run = widget.last_flow_run
    assert run is not None, widget.status_text
    stored = client.get_schedule(run.flow_id)
    assert stored.active
    assert stored.schedule == make_schedule(every="1h")
    assert stored.next_times and stored.next_times[0] > datetime.now(timezone.utc)
