"""The liveness sweeper: runs whose lease expired are marked Crashed, then maybe retried.

A run in Submitted or Running holds a lease that every heartbeat (from the agent or the
flow-run process) pushes ``lease_timeout`` seconds ahead. The sweeper wakes every
``sweep_interval`` seconds, so a run whose heartbeats stopped is Crashed within
``lease_timeout + sweep_interval`` of its last heartbeat. The Crashed message names the
last heartbeat (and the exit code, if the agent reported one); the retry rule then puts
the run back to Scheduled when ``run_count <= max_retries``. A ``Cancelling`` run whose
lease expired (its process and agent are both gone) is marked ``Cancelled`` instead.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from jupyter_flows.api import FlowRunId
from jupyter_flows.server.db import Database
from jupyter_flows.server.models import FlowRunModel, utcnow
from jupyter_flows.server.orchestration import LEASED, crash, crash_message

_log = logging.getLogger("jupyter_flows.server.liveness")


def sweep(db: Database, lease_timeout: float) -> tuple[list[FlowRunId], list[FlowRunId]]:
    """One pass: returns (ids of runs marked Crashed, ids of those rescheduled)."""

    def expired(now: datetime) -> Select[FlowRunModel]:
        return (select(FlowRunModel)
                .where(FlowRunModel.state.in_(LEASED), FlowRunModel.lease_expires_at < now)
                .order_by(FlowRunModel.lease_expires_at)
                .limit(500))

    def look(session: Session) -> bool:
        return session.scalars(expired(utcnow()).limit(1)).first() is not None

    def work(session: Session) -> tuple[list[FlowRunId], list[FlowRunId]]:
        now = utcnow()
        query = expired(now)
        if db.kind == "postgresql":
            query = query.with_for_update(skip_locked=True)
        crashed: list[FlowRunId] = []
        rescheduled: list[FlowRunId] = []
        for run in session.scalars(query):
            crashed.append(run.id)
            if crash(session, run, crash_message(run, now), now, lease_timeout):
                rescheduled.append(run.id)
        return crashed, rescheduled

    if not db.run(look, write=False):  # the usual case: no write lock taken
        return [], []
    return db.run(work)


async def sweep_forever(db: Database, lease_timeout: float, interval: float) -> None:
    """Sweep every ``interval`` seconds until cancelled; errors are logged, never fatal."""
    while True:
        await asyncio.sleep(interval)
        try:
            crashed, rescheduled = await asyncio.to_thread(sweep, db, lease_timeout)
        except asyncio.CancelledError:
            raise
        except Exception:
            _log.exception("liveness sweep failed; trying again in %.1f s", interval)
            continue
        if crashed:
            _log.warning("marked %d flow run(s) Crashed (lease expired): %s; rescheduled %d",
                         len(crashed), ", ".join(crashed), len(rescheduled))
