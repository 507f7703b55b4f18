"""Running a flow on its schedule in this process: Prefect 1.x's ``run(run_on_schedule=True)``.

The loop asks the flow's schedule for its next event after now, sleeps until then, runs
the flow with the event's parameter defaults (parameters passed to ``run`` win), and
repeats, until the schedule has no more times, ``max_runs`` runs are done, or Ctrl-C
(``KeyboardInterrupt``) stops it, which it reports and returns from. A run that outlasts
the next scheduled time does not queue up missed runs: the next run is the next time after
it ended. Time comes from a :class:`Timer`, so tests (and simulations) need not sleep.

Without ``run_on_schedule``, ``flow.run()`` of a scheduled flow runs it once, now, and says
so (:func:`note_schedule_ignored`): the backend scheduler is where schedules belong.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any, Protocol

from jupyter_flows.engine.flow_runner import run_flow
from jupyter_flows.engine.logs import ensure_default_handler
from jupyter_flows.engine.states import Pending, Scheduled, State
from jupyter_flows.errors import ScheduleError

if TYPE_CHECKING:
    from jupyter_flows.core.flow import Flow

__all__ = ["MAX_NAP", "SystemTimer", "Timer", "note_schedule_ignored", "run_on_schedule"]

_log = logging.getLogger("jupyter_flows.schedule")

MAX_NAP = 60.0
"""Longest single sleep, in seconds: waking to re-read the clock keeps a suspended laptop
or a changed system clock from oversleeping a run."""


class Timer(Protocol):
    """Where the loop reads the time and waits."""

    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> None: ...


class SystemTimer:
    """The real clock: ``datetime.now(UTC)`` and ``time.sleep``."""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def note_schedule_ignored(flow: Flow) -> None:
    """Say, once per ``run()``, that a scheduled flow runs once now, and how to schedule it."""
    ensure_default_handler()
    assert flow.schedule is not None
    _log.warning(
        "flow %r has a schedule (%s); flow.run() runs it once, now. To run it at each "
        "scheduled time in this process, call flow.run(run_on_schedule=True)",
        flow.name, flow.schedule.describe())


def run_on_schedule(
    flow: Flow,
    parameters: Mapping[str, Any] | None = None,
    *,
    executor: Any = None,
    timer: Timer | None = None,
    max_runs: int | None = None,
    **options: Any,
) -> State:
    """Run ``flow`` at each time of ``flow.schedule`` until stopped; the last run's state.

    ``options`` go to each ``run_flow``. Returns ``Scheduled`` when interrupted before a
    run finished, ``Pending`` when the schedule had no time left to run at.
    """
    schedule = flow.schedule
    if schedule is None:
        raise ScheduleError(f"flow {flow.name!r} has no schedule; set Flow(..., schedule=...) "
                            f"or flow.schedule before run(run_on_schedule=True)")
    if max_runs is not None and max_runs < 1:
        raise ScheduleError(f"run_on_schedule: max_runs must be at least 1, got {max_runs!r}")
    timer = timer or SystemTimer()
    ensure_default_handler()
    _log.info("flow %r: running on its schedule (%s) until interrupted", flow.name,
              schedule.describe())
    last: State | None = None
    runs = 0
    upcoming: datetime | None = None
    try:
        while max_runs is None or runs < max_runs:
            events = schedule.next(1, after=timer.now(), return_events=True)
            if not events:
                _log.info("flow %r: its schedule has no more times; stopping", flow.name)
                break
            event = events[0]
            upcoming = event.start_time
            _log.info("flow %r: next run at %s", flow.name, upcoming.isoformat())
            _sleep_until(timer, upcoming)
            run_parameters = {**event.parameter_defaults, **(parameters or {})}
            last = run_flow(flow, parameters=run_parameters, executor=executor, **options)
            runs += 1
            upcoming = None
    except KeyboardInterrupt:
        _log.info("flow %r: interrupted; stopped after %d scheduled run(s)", flow.name, runs)
    if last is not None:
        return last
    if upcoming is not None:
        return Scheduled(f"interrupted before the run scheduled at {upcoming.isoformat()} "
                         f"finished")
    return Pending("the schedule had no time left to run at; nothing ran")


def _sleep_until(timer: Timer, moment: datetime) -> None:
    while (left := (moment - timer.now()).total_seconds()) > 0:
        timer.sleep(min(left, MAX_NAP))
