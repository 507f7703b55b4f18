"""The scheduler: makes the runs of every active schedule ahead of time, each exactly once.

Which schedule: a flow's schedule lives in its spec, so each version has its own; only the
latest version of a (project, name) is scheduled, and only while its ``schedule_active``
is set. Registering a new version deletes the older versions' unclaimed scheduled runs
(:func:`delete_unclaimed_runs`), so their schedules stop making runs at once.

A pass (:meth:`Scheduler.run_once`), every ``scheduler_interval`` seconds, gives each such
flow its next ``schedule_max_runs`` times that fall within ``schedule_horizon`` of now.
Each run is keyed by (flow version, scheduled time): ``idempotency_key`` is
``scheduled:<UTC ISO time>`` under the table's unique (flow_id, idempotency_key), and the
insert is ``INSERT .. ON CONFLICT DO NOTHING``, so two schedulers (two server processes on
one PostgreSQL, or one restarted on SQLite) that both try a time make one run of it. A pass
first reads which keys exist and only opens a write transaction for flows missing some.

A run's parameters are its clock's ``parameter_defaults``; its labels are its clock's
``labels`` if the clock has any, else the flow's. Runs are claimable from their scheduled
time (the claim query filters ``scheduled_start <= now``).

Missed runs: times that passed while no scheduler ran (the backend was down) and whose runs
were never made. ``missed_runs="skip"`` (the default) leaves them out; ``"latest"`` makes
one run, now, for the latest of them. Runs made before the downtime are already in the
queue and run late when an agent claims them. Times before the version was registered or
its schedule last resumed never count as missed.

The clock is injectable (``now``), so tests simulate minutes of passes without sleeping.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import partial
from typing import Any

from sqlalchemy import and_, delete, func, select
from sqlalchemy.orm import Session

from jupyter_flows.api import FlowRunId
from jupyter_flows.schedules import ClockEvent, Schedule
from jupyter_flows.server.db import Database
from jupyter_flows.server.events import mark_changed
from jupyter_flows.server.models import (
    FlowModel,
    FlowRunModel,
    new_id,
    utcnow,
)
from jupyter_flows.server.run_inserts import chunks, insert_runs
from jupyter_flows.server.settings import Settings

_log = logging.getLogger("jupyter_flows.server.scheduler")
#: What a pass found for one flow: (flow id, its missing upcoming events, a missed event)
_Todo = tuple[str, list[ClockEvent], "ClockEvent | None"]

KEY_PREFIX = "scheduled:"
#: Flows whose runs one write transaction of a pass makes, at most.
WRITE_BATCH = 100
#: How far back a "latest" missed run is looked for, at most.
MISSED_LOOKBACK = timedelta(days=366)


def schedule_key(moment: datetime) -> str:
    """The idempotency key of the scheduled run at ``moment``: one per (flow, time)."""
    utc = moment.astimezone(timezone.utc).replace(tzinfo=None)
    return KEY_PREFIX + utc.isoformat(timespec="microseconds")


@dataclass(frozen=True)
class ScheduleLimits:
    horizon: timedelta
    max_runs: int
    missed_runs: str

    @classmethod
    def of(cls, settings: Settings) -> ScheduleLimits:
        return cls(timedelta(seconds=settings.schedule_horizon), settings.schedule_max_runs,
                   settings.missed_runs)


def flow_schedule(flow: FlowModel) -> Schedule | None:
    config = (flow.spec or {}).get("schedule")
    return None if not config else Schedule.model_validate(config)


def latest_version(session: Session, project: str, name: str) -> FlowModel | None:
    return session.scalars(select(FlowModel).where(FlowModel.project == project,
                                                   FlowModel.name == name)
                           .order_by(FlowModel.version.desc()).limit(1)).first()


def is_latest(session: Session, flow: FlowModel) -> bool:
    newest = session.scalar(select(func.max(FlowModel.version)).where(
        FlowModel.project == flow.project, FlowModel.name == flow.name))
    return newest is None or newest <= flow.version


def scheduled_flows(session: Session, only: Sequence[str] | None = None) -> list[FlowModel]:
    """The latest version of every (project, name) (of those with ids in ``only``), where
    its schedule is active and it is not archived."""
    latest = (select(FlowModel.project, FlowModel.name,
                     func.max(FlowModel.version).label("version"))
              .group_by(FlowModel.project, FlowModel.name).subquery())
    query = (select(FlowModel)
             .join(latest, and_(FlowModel.project == latest.c.project,
                                FlowModel.name == latest.c.name,
                                FlowModel.version == latest.c.version))
             .where(FlowModel.schedule_active.is_(True), FlowModel.archived.is_(None))
             .order_by(FlowModel.id))
    if only is not None:
        query = query.where(FlowModel.id.in_(only))
    return [flow for flow in session.scalars(query) if (flow.spec or {}).get("schedule")]


def delete_unclaimed_runs(session: Session, project: str, name: str,
                          keep_flow_id: str | None = None, *, only_flow_id: str | None = None
                          ) -> list[FlowRunId]:
    """Delete the scheduler's runs of (project, name) that no agent claimed yet (every
    version but ``keep_flow_id``, or only ``only_flow_id``'s); started and finished runs
    stay."""
    versions = select(FlowModel.id).where(FlowModel.project == project, FlowModel.name == name)
    if only_flow_id is not None:
        versions = versions.where(FlowModel.id == only_flow_id)
    if keep_flow_id is not None:
        versions = versions.where(FlowModel.id != keep_flow_id)
    # run_count == 0: a run rescheduled after a crash was claimed once and is not ours to drop
    doomed = list(session.scalars(select(FlowRunModel.id).where(
        FlowRunModel.flow_id.in_(versions), FlowRunModel.auto_scheduled.is_(True),
        FlowRunModel.state == "Scheduled", FlowRunModel.run_count == 0)))
    if doomed:
        session.execute(delete(FlowRunModel).where(FlowRunModel.id.in_(doomed),
                                                   FlowRunModel.state == "Scheduled")
                        .execution_options(synchronize_session=False))
        mark_changed(session, "flow_run", doomed)
    return doomed


def wanted_events(schedule: Schedule, now: datetime, limits: ScheduleLimits
                  ) -> list[ClockEvent]:
    """The schedule's next runs after ``now``: at most ``max_runs``, within the horizon."""
    end = now + limits.horizon
    return [event for event in schedule.next(limits.max_runs, after=now, return_events=True)
            if event.start_time <= end]


def latest_missed(schedule: Schedule, since: datetime, now: datetime) -> ClockEvent | None:
    """The schedule's last event in (since, now], or None."""
    since = max(since, now - MISSED_LOOKBACK)
    first = schedule.next(1, after=since, return_events=True)
    if not first or first[0].start_time > now:  # the usual case: nothing was missed
        return None
    window = timedelta(minutes=1)
    # look back over growing windows, so a frequent schedule is not walked from ``since``
    while True:
        after = max(since, now - window)
        found: ClockEvent | None = None
        while True:
            events = [e for e in schedule.next(1000, after=after, return_events=True)
                      if e.start_time <= now]
            if not events:
                break
            found = events[-1]
            if len(events) < 1000:
                break
            after = found.start_time
        if found is not None or after <= since:
            return found
        window *= 8


def _run_values(flow: FlowModel, event: ClockEvent, now: datetime, message: str
                ) -> dict[str, Any]:
    return {
        "id": new_id(), "flow_id": flow.id, "parameters": dict(event.parameter_defaults),
        "run_config": dict(flow.run_config), "executor": dict(flow.executor),
        "labels": sorted(set(event.labels or flow.labels)),
        "idempotency_key": schedule_key(event.start_time),
        "scheduled_start": event.start_time, "state": "Scheduled", "state_message": message,
        "state_timestamp": now, "version": 1, "run_count": 0,
        "max_retries": flow.max_retries, "event_seq": 1, "auto_scheduled": True,
        "created": now, "updated": now,
    }


def missing_events(schedule: Schedule, existing: set[str | None], now: datetime,
                   limits: ScheduleLimits) -> list[ClockEvent]:
    return [e for e in wanted_events(schedule, now, limits)
            if schedule_key(e.start_time) not in existing]


def schedule_flow(session: Session, dialect: str, flow: FlowModel, now: datetime,
                  limits: ScheduleLimits) -> list[FlowRunId]:
    """Make ``flow``'s missing upcoming runs (and a missed one, by policy) now, as a pass
    would; returns the new runs' ids. Safe to run in any number of processes at once."""
    schedule = flow_schedule(flow)
    if schedule is None or not flow.schedule_active:
        return []
    existing = set(session.scalars(select(FlowRunModel.idempotency_key).where(
        FlowRunModel.flow_id == flow.id, FlowRunModel.auto_scheduled.is_(True),
        FlowRunModel.scheduled_start > now)))
    events = missing_events(schedule, existing, now, limits)
    missed = find_missed(session, flow, schedule, now) if limits.missed_runs == "latest" else None
    return make_runs(session, dialect, flow, events, missed, now)


def make_runs(session: Session, dialect: str, flow: FlowModel, events: Sequence[ClockEvent],
              missed: ClockEvent | None, now: datetime) -> list[FlowRunId]:
    return insert_runs(session, dialect, _rows(flow, events, missed, now), now)


def _rows(flow: FlowModel, events: Sequence[ClockEvent], missed: ClockEvent | None,
          now: datetime) -> list[dict[str, Any]]:
    rows = [_run_values(flow, event, now,
                        f"scheduled for {event.start_time.isoformat()} by the flow's schedule")
            for event in events]
    if missed is not None:
        rows.insert(0, _run_values(
            flow, missed, now, f"missed at {missed.start_time.isoformat()} (no scheduler was "
                               f"running); run late once by the 'latest' missed-runs policy"))
    return rows


def find_missed(session: Session, flow: FlowModel, schedule: Schedule, now: datetime
                ) -> ClockEvent | None:
    """The latest time in (the last scheduled run, now] whose run was never made."""
    versions = select(FlowModel.id).where(FlowModel.project == flow.project,
                                          FlowModel.name == flow.name)
    last = session.scalar(select(func.max(FlowRunModel.scheduled_start)).where(
        FlowRunModel.flow_id.in_(versions), FlowRunModel.auto_scheduled.is_(True)))
    # times before this version existed or its schedule was resumed were never due
    since = max(last, flow.updated) if last is not None else flow.updated
    if since >= now:
        return None
    return latest_missed(schedule, since, now)


class Scheduler:
    """Tops up every active schedule's runs, one :meth:`run_once` per pass.

    ``now`` is the clock (default: the real one); tests pass a simulated one.
    """

    def __init__(self, db: Database, settings: Settings,
                 now: Callable[[], datetime] = utcnow) -> None:
        self.db = db
        self.limits = ScheduleLimits.of(settings)
        self.now = now

    def run_once(self) -> list[FlowRunId]:
        """One pass; returns the ids of the runs it made."""
        now = self.now()
        todo = self.db.run(lambda session: self._look(session, now), write=False)
        created: list[FlowRunId] = []
        # a few write transactions per pass, not one per flow (each commit costs a sync)
        for batch in chunks(todo, WRITE_BATCH):
            created += self.db.run(partial(self._make, batch=batch, now=now))
        return created

    def _look(self, session: Session, now: datetime) -> list[_Todo]:
        flows = scheduled_flows(session)
        existing: dict[str, set[str | None]] = {}
        for chunk in chunks([f.id for f in flows], 500):
            for flow_id, key in session.execute(
                    select(FlowRunModel.flow_id, FlowRunModel.idempotency_key).where(
                        FlowRunModel.flow_id.in_(chunk), FlowRunModel.auto_scheduled.is_(True),
                        FlowRunModel.scheduled_start > now)):
                existing.setdefault(flow_id, set()).add(key)
        todo: list[_Todo] = []
        for flow in flows:
            try:
                schedule = flow_schedule(flow)
                assert schedule is not None
                events = missing_events(schedule, existing.get(flow.id, set()), now,
                                        self.limits)
                missed = (find_missed(session, flow, schedule, now)
                          if self.limits.missed_runs == "latest" else None)
            except Exception:  # one broken schedule must not stop the others
                _log.exception("flow %s (%s): cannot compute its schedule", flow.name, flow.id)
                continue
            if events or missed is not None:
                todo.append((flow.id, events, missed))
        return todo

    def _make(self, session: Session, batch: Sequence[_Todo], now: datetime
              ) -> list[FlowRunId]:
        # still the latest version and active (not paused or superseded since the look)
        flows: dict[str, FlowModel] = {flow.id: flow for flow in scheduled_flows(
            session, only=[flow_id for flow_id, _, _ in batch])}
        rows = [row for flow_id, events, missed in batch if flow_id in flows
                for row in _rows(flows[flow_id], events, missed, now)]
        return insert_runs(session, self.db.kind, rows, now)

    async def run_forever(self, interval: float) -> None:
        """A pass every ``interval`` seconds until cancelled; errors are logged, never fatal."""
        while True:
            try:
                created = await asyncio.to_thread(self.run_once)
            except asyncio.CancelledError:
                raise
            except Exception:
                _log.exception("scheduler pass failed; trying again in %.1f s", interval)
            else:
                if created:
                    _log.info("scheduled %d flow run(s)", len(created))
            await asyncio.sleep(interval)
