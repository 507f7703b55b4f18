"""Concurrency limits: how many runs with a label may hold a slot at once.

A run *holds a slot* for each of its labels from its claim until it finishes: while it is
Submitted, Running or Cancelling (``LEASED``, the states with a lease). Only a claim moves a
run into those states, so limits are enforced there: a run is claimable only while, for
every label of it with a limit N, fewer than N runs with that label hold a slot. A run that
ends, is handed back, or whose lease the sweeper expires frees its slots with that state
change. Lowering a limit below what is in use stops nothing; new claims wait until usage is
under it.

Race-freedom: on SQLite a claim is one ``BEGIN IMMEDIATE`` transaction, so counts and claims
are serialised. On PostgreSQL the claim locks the limit rows of the candidate's labels
(``SELECT ... FOR UPDATE``, in name order) before it counts, so two claimers of runs with a
shared limited label count one after the other, each seeing the other's committed claim
(READ COMMITTED takes a new snapshot per statement).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, exists, func, select
from sqlalchemy.orm import Session, aliased

from jupyter_flows.server.models import ConcurrencyLimitModel, FlowRunLabelModel, FlowRunModel
from jupyter_flows.server.orchestration import LEASED

#: The states in which a run holds a slot of each of its labels.
HOLDING = LEASED
LABEL = "label"


def _in_use(label: ColumnElement[str]) -> ColumnElement[int]:
    """How many runs with ``label`` hold a slot (a correlated scalar subquery)."""
    holder, holder_label = aliased(FlowRunModel), aliased(FlowRunLabelModel)
    return (select(func.count())
            .select_from(holder_label)
            .join(holder, holder.id == holder_label.flow_run_id)
            .where(holder_label.label == label, holder.state.in_(HOLDING))
            .scalar_subquery())


def slot_full() -> ColumnElement[bool]:
    """True for a ``flow_runs`` row with a label whose limit is used up (for the claim
    query, so that waiting claims do not take the write lock for runs they cannot have)."""
    run_label = aliased(FlowRunLabelModel)
    limit = aliased(ConcurrencyLimitModel)
    return exists().where(run_label.flow_run_id == FlowRunModel.id,
                          limit.kind == LABEL, limit.name == run_label.label,
                          limit.limit <= _in_use(limit.name))


@dataclass(frozen=True)
class Usage:
    kind: str
    name: str
    limit: int
    in_use: int


def usage(session: Session, kind: str | None = None, names: list[str] | None = None,
          lock: bool = False) -> list[Usage]:
    """Limits (all, or those named) with how many slots are in use now, by name.

    ``lock`` takes the limit rows ``FOR UPDATE`` first (PostgreSQL), so that the counts
    stay true until this transaction ends for anyone else who locks them.
    """
    query = select(ConcurrencyLimitModel).order_by(ConcurrencyLimitModel.kind,
                                                   ConcurrencyLimitModel.name)
    if kind is not None:
        query = query.where(ConcurrencyLimitModel.kind == kind)
    if names is not None:
        if not names:
            return []
        query = query.where(ConcurrencyLimitModel.name.in_(names))
    if lock:
        query = query.with_for_update()
    limits = list(session.scalars(query))
    if not limits:
        return []
    counts: dict[str, int] = dict(session.execute(
        select(FlowRunLabelModel.label, func.count())
        .join(FlowRunModel, FlowRunModel.id == FlowRunLabelModel.flow_run_id)
        .where(FlowRunModel.state.in_(HOLDING),
               FlowRunLabelModel.label.in_([row.name for row in limits]))
        .group_by(FlowRunLabelModel.label)).all())
    return [Usage(row.kind, row.name, row.limit, counts.get(row.name, 0)) for row in limits]


def slot_problem(session: Session, run_id: str, lock: bool) -> str | None:
    """Why the run cannot take a slot of each of its limited labels now, or None."""
    labels = sorted(session.scalars(select(FlowRunLabelModel.label).where(
        FlowRunLabelModel.flow_run_id == run_id)))
    for used in usage(session, LABEL, labels, lock=lock):
        if used.in_use >= used.limit:
            return waiting_message(used)
    return None


def waiting_message(used: Usage) -> str:
    return (f"waiting for a slot: {used.kind} {used.name!r} is limited to {used.limit} "
            f"running ({used.in_use} running)")
