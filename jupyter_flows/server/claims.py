"""Claiming runs: exactly once, oldest due run first, with labels matching the agent's.

On SQLite a claim is one conditional ``UPDATE ... WHERE id = ? AND state IN (claimable)``
whose row count says whether this agent won; on PostgreSQL the candidate row is taken with
``SELECT ... FOR UPDATE SKIP LOCKED`` so concurrent claimers pass over each other's rows.

Each attempt first looks for a due run in a read-only transaction, and only takes the
write lock when there is one to claim (or the agent's heartbeat needs refreshing).

A waiting claim sleeps on a :class:`ClaimNotifier`, woken at once when this process
creates or reschedules a run, and re-checks the database every ``claim_poll_interval``
for runs created elsewhere (another server process, a future ``scheduled_start``).
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, exists, select, true, update
from sqlalchemy.orm import Session

from jupyter_flows.server.models import (
    AgentModel,
    FlowRunLabelModel,
    FlowRunModel,
    FlowRunStateModel,
)
from jupyter_flows.server.orchestration import CLAIMABLE

# Candidates fetched per attempt on SQLite; a lost race moves on to the next one.
_BATCH = 8


class ClaimNotifier:
    """Wakes waiting claims; ``notify`` may be called from any thread."""

    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None
        self._lock = threading.Lock()
        self.closed = False

    def close(self) -> None:
        """The server is stopping: wake every waiting claim for good (they answer 204)."""
        self.closed = True
        self.notify()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        with self._lock:
            self._loop = loop
            self._event = asyncio.Event()

    def waiter(self) -> asyncio.Event:
        """The event the next ``notify`` sets; take it *before* looking for work."""
        with self._lock:
            if self._event is None:
                self._loop = asyncio.get_running_loop()
                self._event = asyncio.Event()
            return self._event

    def notify(self) -> None:
        with self._lock:
            loop, event = self._loop, self._event
            if loop is None or event is None:
                return
            if not self.closed:
                self._event = asyncio.Event()
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            event.set()
        elif not loop.is_closed():
            loop.call_soon_threadsafe(event.set)


def _due_runs(agent_labels: list[str], now: datetime) -> Select[str]:
    missing_label = exists().where(
        FlowRunLabelModel.flow_run_id == FlowRunModel.id,
        FlowRunLabelModel.label.not_in(agent_labels) if agent_labels else true(),
    )
    return (select(FlowRunModel.id)
            .where(FlowRunModel.state.in_(CLAIMABLE),
                   FlowRunModel.scheduled_start <= now,
                   ~missing_label)
            .order_by(FlowRunModel.scheduled_start, FlowRunModel.created, FlowRunModel.id))


def has_due_run(session: Session, agent_labels: list[str], now: datetime) -> bool:
    """Whether a claim could succeed; a read-only look, so idle agents polling it do not
    take the database's write lock."""
    return session.scalars(_due_runs(agent_labels, now).limit(1)).first() is not None


def claim_one(session: Session, agent: AgentModel, now: datetime, lease_timeout: float,
              dialect: str) -> FlowRunModel | None:
    """Claim the oldest due run ``agent`` may take, or None; run inside a write transaction."""
    agent.last_heartbeat = now
    query = _due_runs(list(agent.labels), now)
    if dialect == "postgresql":
        candidates = list(session.scalars(query.limit(1).with_for_update(skip_locked=True)))
    else:
        candidates = list(session.scalars(query.limit(_BATCH)))
    lease_id = uuid.uuid4().hex
    expires = now + timedelta(seconds=lease_timeout)
    message = f"claimed by agent {agent.name!r} ({agent.id})"
    for run_id in candidates:
        result = session.execute(
            update(FlowRunModel)
            .where(and_(FlowRunModel.id == run_id, FlowRunModel.state.in_(CLAIMABLE)))
            .values(state="Submitted", state_message=message, state_timestamp=now,
                    version=FlowRunModel.version + 1, run_count=FlowRunModel.run_count + 1,
                    agent_id=agent.id, lease_id=lease_id, lease_expires_at=expires,
                    last_heartbeat=now, updated=now)
            .execution_options(synchronize_session=False))
        if result.rowcount != 1:  # type: ignore[attr-defined]
            continue
        run = session.get(FlowRunModel, run_id, populate_existing=True)
        assert run is not None
        session.add(FlowRunStateModel(flow_run_id=run.id, state="Submitted", message=message,
                                      timestamp=now, version=run.version))
        return run
    return None
