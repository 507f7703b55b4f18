"""Claiming runs: exactly once, oldest due run first, to an agent whose labels include the
run's and whose kind runs the run's config (a docker agent: DockerRun or UniversalRun).

On SQLite a claim is one conditional ``UPDATE ... WHERE id = ? AND state IN (claimable)``
whose row count says whether this agent won; on PostgreSQL the candidate row is taken with
``SELECT ... FOR UPDATE SKIP LOCKED`` so concurrent claimers pass over each other's rows.

Concurrency limits (:mod:`jupyter_flows.server.slots`) are part of the query: a run with a
label whose slots are all taken is passed over, and the next claimable run is tried. The
candidate's slots are counted again under the limit rows' locks before it is claimed.

Each attempt first looks for a due run in a read-only transaction, and only takes the
write lock when there is one to claim (or the agent's heartbeat needs refreshing).

A waiting claim sleeps on the event bus's claims wake-up, woken at once when a run becomes
due (created or rescheduled through this process, or through another one on PostgreSQL by
NOTIFY), and re-checks the database every ``claim_poll_interval`` for the rest (a future
``scheduled_start``, another process on SQLite); a claim whose agent has a run due sooner
than that wakes at its ``scheduled_start`` (:func:`next_start`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, exists, or_, select, true, update
from sqlalchemy.orm import Session

from jupyter_flows.run_configs.labels import run_config_type_names
from jupyter_flows.server.models import AgentModel, FlowRunLabelModel, FlowRunModel, utcnow
from jupyter_flows.server.orchestration import CLAIMABLE, record_state
from jupyter_flows.server.slots import slot_full, slot_problem

# Candidates fetched per attempt on SQLite; a lost race moves on to the next one.
_BATCH = 8


def _matching_runs(agent: AgentModel) -> Select[str]:
    agent_labels = list(agent.labels)
    missing_label = exists().where(
        FlowRunLabelModel.flow_run_id == FlowRunModel.id,
        FlowRunLabelModel.label.not_in(agent_labels) if agent_labels else true(),
    )
    kind = FlowRunModel.run_config["type"].as_string()
    return (select(FlowRunModel.id)
            .where(FlowRunModel.state.in_(CLAIMABLE),
                   ~missing_label,
                   # a run only goes to an agent that can run its run config
                   or_(kind.is_(None), kind.in_(run_config_type_names(agent.type))))
            .order_by(FlowRunModel.scheduled_start, FlowRunModel.created, FlowRunModel.id))


def _due_runs(agent: AgentModel, now: datetime) -> Select[str]:
    return _matching_runs(agent).where(FlowRunModel.scheduled_start <= now, ~slot_full())


def next_start(session: Session, agent: AgentModel, now: datetime) -> datetime | None:
    """When the agent's next not-yet-due run becomes due (a scheduled one), or None: a
    waiting claim sleeps until then rather than a whole poll interval."""
    query = (_matching_runs(agent).where(FlowRunModel.scheduled_start > now)
             .with_only_columns(FlowRunModel.scheduled_start).limit(1))
    return session.scalars(query).first()


def has_due_run(session: Session, agent: AgentModel, now: datetime) -> bool:
    """Whether a claim could succeed; a read-only look, so idle agents polling it do not
    take the database's write lock."""
    return session.scalars(_due_runs(agent, now).limit(1)).first() is not None


def claim_one(session: Session, agent: AgentModel, now: datetime, lease_timeout: float,
              dialect: str) -> FlowRunModel | None:
    """Claim the oldest due run ``agent`` may take, or None; run inside a write transaction."""
    agent.last_heartbeat = now
    query = _due_runs(agent, now)
    if dialect == "postgresql":
        candidates: Iterable[str] = _locked_candidates(session, query)
    else:
        candidates = list(session.scalars(query.limit(_BATCH)))
    lease_id = uuid.uuid4().hex
    message = f"claimed by agent {agent.name!r} ({agent.id})"
    for run_id in candidates:
        if slot_problem(session, run_id, lock=dialect == "postgresql"):
            continue  # another claimer took the last slot since the query looked
        # stamped after the count: a run taking a slot another run just freed is claimed
        # after that one ended in the state history too (``now`` was read before the locks)
        now = max(now, utcnow())
        expires = now + timedelta(seconds=lease_timeout)
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
        record_state(session, run, now)
        return run
    return None


def _locked_candidates(session: Session, query: Select[str]) -> Iterator[str]:
    """Up to ``_BATCH`` runs, one at a time, each locked ``FOR UPDATE SKIP LOCKED``; each
    is a fresh statement, so it sees the claims committed while the last was checked."""
    passed: list[str] = []
    for _ in range(_BATCH):
        narrowed = query.where(FlowRunModel.id.not_in(passed)) if passed else query
        run_id = session.scalars(narrowed.limit(1).with_for_update(skip_locked=True)).first()
        if run_id is None:
            return
        passed.append(run_id)
        yield run_id
