"""Concurrency limits: how many flow runs with a label, or task runs with a tag, may hold a
slot at once.

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

Tag limits count task runs. A task run with a limited tag asks for its slots before its
first attempt (``take_task_slots``) and gives them back when it ends (``release_task_slots``);
a slot is a ``task_slots`` row, and counts only while its flow run holds its lease, so a
flow-run process that dies frees its task runs' slots when the run is marked Crashed or its
lease expires, with nothing left to clean up by hand. The same locks serialise the counts.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, delete, exists, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from jupyter_flows.api import TaskSlotGrant
from jupyter_flows.server.models import (
    ConcurrencyLimitModel,
    FlowRunLabelModel,
    FlowRunModel,
    TaskSlotModel,
)
from jupyter_flows.server.orchestration import LEASED

#: The states in which a run holds a slot of each of its labels (and its task runs theirs).
HOLDING = LEASED
LABEL = "label"
TAG = "tag"


def _in_use(label: ColumnElement[str] | InstrumentedAttribute[str]) -> ColumnElement[int]:
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
    counts: dict[tuple[str, str], int] = {}
    # what holds a slot of each kind: a leased run's label row, a leased run's task slot
    for kind, name, run_id in ((LABEL, FlowRunLabelModel.label, FlowRunLabelModel.flow_run_id),
                               (TAG, TaskSlotModel.tag, TaskSlotModel.flow_run_id)):
        wanted = [row.name for row in limits if row.kind == kind]
        if wanted:
            counts.update(((kind, held), n) for held, n in session.execute(
                select(name, func.count())
                .join(FlowRunModel, FlowRunModel.id == run_id)
                .where(FlowRunModel.state.in_(HOLDING), name.in_(wanted))
                .group_by(name)))
    return [Usage(row.kind, row.name, row.limit, counts.get((row.kind, row.name), 0))
            for row in limits]


def slot_problem(session: Session, run_id: str, lock: bool) -> str | None:
    """Why the run cannot take a slot of each of its limited labels now, or None."""
    labels = sorted(session.scalars(select(FlowRunLabelModel.label).where(
        FlowRunLabelModel.flow_run_id == run_id)))
    for used in usage(session, LABEL, labels, lock=lock):
        if used.in_use >= used.limit:
            return waiting_message(used)
    return None


def waiting_message(used: Usage) -> str:
    what = "runs" if used.kind == LABEL else "task runs"
    return (f"waiting for a slot: {what} with {used.kind} {used.name!r} are limited to "
            f"{used.limit} at once ({used.in_use} hold one)")


def take_task_slots(session: Session, run_id: str, task_slug: str, map_index: int,
                    tags: list[str], lock: bool) -> TaskSlotGrant:
    """One slot of each limited tag for this task run, all or none.

    Asking again for slots already held grants them again (a retried request whose answer
    was lost); tags with no limit need no slot.
    """
    held = set(session.scalars(select(TaskSlotModel.tag).where(
        TaskSlotModel.flow_run_id == run_id, TaskSlotModel.task_slug == task_slug,
        TaskSlotModel.map_index == map_index)))
    limited = usage(session, TAG, sorted(set(tags)), lock=lock)
    for used in limited:
        if used.name not in held and used.in_use >= used.limit:
            return TaskSlotGrant(granted=False, message=waiting_message(used))
    session.add_all(TaskSlotModel(flow_run_id=run_id, task_slug=task_slug,
                                  map_index=map_index, tag=used.name)
                    for used in limited if used.name not in held)
    return TaskSlotGrant(granted=True)


def release_task_slots(session: Session, run_id: str, task_slug: str, map_index: int) -> int:
    """Give back the task run's slots; answers how many it held."""
    result = session.execute(delete(TaskSlotModel).where(
        TaskSlotModel.flow_run_id == run_id, TaskSlotModel.task_slug == task_slug,
        TaskSlotModel.map_index == map_index))
    return int(getattr(result, "rowcount", 0) or 0)
