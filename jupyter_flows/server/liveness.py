"""The liveness sweeper: runs whose lease expired are marked Crashed, then maybe retried.

A run in Submitted or Running holds a lease that every heartbeat (from the agent or the
flow-run process) pushes ``lease_timeout`` seconds ahead. The sweeper wakes every
``sweep_interval`` seconds, so a run whose heartbeats stopped is Crashed within
``lease_timeout + sweep_interval`` of its last heartbeat. The Crashed message names the
last heartbeat (and the exit code, if the agent reported one); the retry rule then puts
the run back to Scheduled when ``run_count <= max_retries``. A ``Cancelling`` run whose
lease expired (its process and agent are both gone) is marked ``Cancelled`` instead.

A run still Submitted never ran (see :mod:`jupyter_flows.server.returns`): when its lease
expires, or it has not reached Running ``start_timeout`` seconds after its claim, it goes
back to Scheduled without using a retry.

Time the backend itself was down is not held against anyone: when a server starts it
pushes every live lease ``lease_timeout`` ahead (:func:`extend_live_leases`), and start
timeouts are only applied once it has been up for ``lease_timeout`` (a flow-run process
waiting out the outage needs a moment to say Running). Every replica on one PostgreSQL may
sweep: rows are taken ``FOR UPDATE SKIP LOCKED`` and re-checked, so two never sweep the
same run.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, or_, select, update
from sqlalchemy.orm import Session

from jupyter_flows.api import FlowRunId
from jupyter_flows.server.db import Database
from jupyter_flows.server.models import FlowRunModel, utcnow
from jupyter_flows.server.orchestration import LEASED, crash, crash_message
from jupyter_flows.server.returns import hand_back

_log = logging.getLogger("jupyter_flows.server.liveness")


@dataclass
class Swept:
    """What one pass did, by run id."""

    crashed: list[FlowRunId] = field(default_factory=list)
    rescheduled: list[FlowRunId] = field(default_factory=list)
    #: Submitted runs handed back to the queue with their retries intact
    returned: list[FlowRunId] = field(default_factory=list)


def sweep(db: Database, lease_timeout: float, start_timeout: float | None = None
          ) -> Swept:
    """One pass. ``start_timeout`` None: no start timeouts this pass (the server has only
    just started)."""

    def due(now: datetime) -> Select[FlowRunModel]:
        lost = and_(FlowRunModel.state.in_(LEASED), FlowRunModel.lease_expires_at < now)
        condition = lost
        if start_timeout is not None:
            late = now - timedelta(seconds=start_timeout)
            condition = or_(lost, and_(FlowRunModel.state == "Submitted",
                                       FlowRunModel.state_timestamp < late))
        return (select(FlowRunModel).where(condition)
                .order_by(FlowRunModel.lease_expires_at)
                .limit(500))

    def look(session: Session) -> bool:
        return session.scalars(due(utcnow()).limit(1)).first() is not None

    def work(session: Session) -> Swept:
        now = utcnow()
        query = due(now)
        if db.kind == "postgresql":
            query = query.with_for_update(skip_locked=True)
        swept = Swept()
        for run in session.scalars(query):
            if run.state == "Submitted":
                expired = run.lease_expires_at is not None and run.lease_expires_at < now
                why = ("its lease expired before it started (no heartbeat since "
                       f"{_iso(run.last_heartbeat)})" if expired else
                       f"it was not Running {start_timeout:g} s after its claim (start_timeout)")
                if hand_back(session, run, why, now, lease_timeout):
                    swept.returned.append(run.id)
                    continue
            else:
                crash(session, run, crash_message(run, now), now, lease_timeout)
            swept.crashed.append(run.id)
            if run.state == "Scheduled":
                swept.rescheduled.append(run.id)
        return swept

    if not db.run(look, write=False):  # the usual case: no write lock taken
        return Swept()
    return db.run(work)


def extend_live_leases(db: Database, lease_timeout: float) -> int:
    """Push every live lease at least ``lease_timeout`` ahead of now; how many moved.

    Run when a server starts: the time it was down (or starting) is nobody's fault, and a
    flow-run process that rode out the outage must find its lease still valid.
    """

    def work(session: Session) -> int:
        until = utcnow() + timedelta(seconds=lease_timeout)
        result = session.execute(
            update(FlowRunModel)
            .where(FlowRunModel.state.in_(LEASED), FlowRunModel.lease_id.is_not(None),
                   FlowRunModel.lease_expires_at < until)
            .values(lease_expires_at=until)
            .execution_options(synchronize_session=False))
        return int(result.rowcount)  # type: ignore[attr-defined]

    return db.run(work)


def extend_at_start(db: Database, lease_timeout: float) -> None:
    """:func:`extend_live_leases`, logged; a failure is logged, not fatal (the database
    may be the thing that is down)."""
    try:
        moved = extend_live_leases(db, lease_timeout)
    except Exception:
        _log.exception("could not extend live leases at start-up")
        return
    if moved:
        _log.warning("extended %d live lease(s) by %g s: the time the backend was down is "
                     "not held against them", moved, lease_timeout)


def _iso(moment: datetime | None) -> str:
    return "never" if moment is None else moment.isoformat(timespec="seconds")


async def sweep_forever(db: Database, lease_timeout: float, interval: float,
                        start_timeout: float | None = None) -> None:
    """Sweep every ``interval`` seconds until cancelled; errors are logged, never fatal.

    Start timeouts wait until this has run for ``lease_timeout`` (see the module doc)."""
    grace_until = time.monotonic() + lease_timeout
    while True:
        await asyncio.sleep(interval)
        starting = time.monotonic() < grace_until
        try:
            swept = await asyncio.to_thread(sweep, db, lease_timeout,
                                            None if starting else start_timeout)
        except asyncio.CancelledError:
            raise
        except Exception:
            _log.exception("liveness sweep failed; trying again in %.1f s", interval)
            continue
        if swept.crashed:
            _log.warning("marked %d flow run(s) Crashed (lease expired): %s; rescheduled %d",
                         len(swept.crashed), ", ".join(swept.crashed), len(swept.rescheduled))
        if swept.returned:
            _log.warning("returned %d claimed flow run(s) that never started to the queue: %s",
                         len(swept.returned), ", ".join(swept.returned))
