"""The rules for a flow run's state: which transitions are allowed, leases, and retries.

    Pending ─> Scheduled ─(claim)─> Submitted ─> Running ─> Success, Failed, Crashed, ...
                │  ^                   │            │
                v  │                   │            └─(cancel)─> Cancelling ─> Cancelled
               Paused                  └─> Scheduled  (an agent hands the run back)
    any unfinished state ─> Cancelled
    Failed, Crashed, TimedOut, TriggerFailed ─(retry rule)─> Scheduled
    Failed, Crashed, TimedOut, TriggerFailed, Cancelled ─(restart)─> Scheduled

* ``ALLOWED`` below is the whole table; anything else is refused (409) with a reason
  naming both states. Only a claim moves a run to ``Submitted`` (that is what makes
  claims exactly-once), so the states endpoint refuses it as a target.
* Finished states are terminal, with one exception, the retry rule: a ``Failed`` (or
  ``Crashed``, ``TimedOut``, ``TriggerFailed``) run whose :func:`attempts` (``run_count``
  since its last restart) ``<= max_retries`` may go back to ``Scheduled``. ``run_count``
  grows by one on every claim, so a run is attempted at most ``max_retries + 1`` times
  (per restart). A ``Crashed`` run (infrastructure died) is
  rescheduled automatically; a ``Failed`` one (the flow itself failed) only on request.
* A restart (``POST .../restart``, :mod:`jupyter_flows.server.restarts`) is the other way
  back: a person asks for it after fixing the cause, so it needs no retries left and also
  takes a ``Cancelled`` run; the states endpoint never does it (it also marks which task
  runs run again).
* A cancel (:func:`cancel`; also ``Cancelled`` written without the lease, as a person
  does) needs no lease. A run nobody runs yet (Scheduled, Paused, ...) is ``Cancelled`` at
  once. A claimed run (Submitted, Running) becomes ``Cancelling``: it keeps its lease, so
  its flow-run process can stop its tasks, report them and end the run ``Cancelled``; its
  agent kills it after a grace period if it does not. A Cancelling run whose
  infrastructure fails or whose lease expires ends ``Cancelled`` (never rescheduled).
  When a run ends ``Cancelled``, its task runs that had not finished become Cancelled too.
  A cancel also cancels the unfinished runs the run created (:func:`cancel_children`).
* Every other write to a claimed run must carry the run's current, unexpired lease.
* Each change increments the run's ``version`` and adds a row to its state history.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from jupyter_flows.server.events import mark_due, next_seqs
from jupyter_flows.server.models import (
    FlowRunModel,
    FlowRunStateModel,
    TaskRunModel,
    TaskRunStateModel,
    TaskSlotModel,
)

SCHEDULED = frozenset({"Scheduled", "Retrying"})
CLAIMABLE = SCHEDULED
ACTIVE = frozenset({"Submitted", "Running"})
#: States whose run holds a lease (its process is still at work).
LEASED = ACTIVE | {"Cancelling"}
CLAIM_ONLY = frozenset({"Submitted"})
SUCCEEDED = frozenset({"Success", "Cached", "Mapped", "Skipped"})
FAILED = frozenset({"Failed", "TriggerFailed", "TimedOut", "Crashed"})
FINISHED = SUCCEEDED | FAILED | {"Cancelled"}

_WAITING = frozenset({"Scheduled", "Retrying", "Paused", "Submitted", "Cancelled", "Failed"})

#: current state -> states it may move to (the retry rule adds FAILED -> Scheduled).
ALLOWED: dict[str, frozenset[str]] = {
    "Pending": frozenset({"Scheduled", "Paused", "Submitted", "Cancelled", "Failed"}),
    "Scheduled": _WAITING,
    "Retrying": _WAITING,
    "Paused": frozenset({"Scheduled", "Cancelled", "Failed"}),
    "Submitted": frozenset({"Running", "Scheduled", "Failed", "Crashed", "Cancelling",
                            "Cancelled"}),
    "Running": FINISHED | {"Cancelling"},
    # the work may still end otherwise before the cancel reaches it: report what happened
    "Cancelling": FINISHED,
    **{state: frozenset() for state in FINISHED},
}


def attempts(run: FlowRunModel) -> int:
    """How many times the run was claimed since it was created or last restarted (a
    restart gives a run its whole retry budget again)."""
    return run.run_count - run.restarted_after


def retries_left(run: FlowRunModel) -> bool:
    return attempts(run) <= run.max_retries


def transition_problem(current: str, new: str, run_count: int, max_retries: int) -> str | None:
    """Why ``current -> new`` is refused, or None when it is allowed (claims excepted)."""
    if new in CLAIM_ONLY:
        return (f"cannot move a run from {current} to {new}: only a claim by an agent "
                f"(POST /api/agents/{{id}}/claim) makes a run {new}")
    if new in ALLOWED.get(current, frozenset()):
        return None
    if current in FAILED and new == "Scheduled":
        if run_count <= max_retries:
            return None
        return (f"cannot move a run from {current} to {new}: no retries left "
                f"(it ran {run_count} time(s) and max_retries is {max_retries})")
    if current in FINISHED:
        return (f"cannot move a run from {current} to {new}: {current} is a finished state "
                f"(only a failed run with retries left may go back to Scheduled; "
                f"POST /api/flow_runs/{{id}}/restart restarts it)")
    allowed = ", ".join(sorted(ALLOWED.get(current, frozenset()))) or "nothing"
    return f"cannot move a run from {current} to {new}: {current} may only move to {allowed}"


def lease_problem(run: FlowRunModel, lease_id: str | None, now: datetime) -> str | None:
    """Why a write carrying ``lease_id`` may not touch ``run``, or None if it may."""
    if run.lease_id is None:
        if lease_id is None:
            return None
        return (f"lease {lease_id} is no longer valid: flow run {run.id} is {run.state} "
                f"and holds no lease")
    if lease_id is None:
        return (f"flow run {run.id} is claimed by agent {run.agent_id}; writes to it must "
                f"carry its lease_id")
    if lease_id != run.lease_id:
        return (f"lease {lease_id} is no longer valid: flow run {run.id} was claimed again "
                f"under another lease")
    if run.lease_expires_at is not None and run.lease_expires_at < now:
        return (f"lease {lease_id} is no longer valid: it expired at "
                f"{run.lease_expires_at.isoformat()} (no heartbeat since "
                f"{_iso(run.last_heartbeat)})")
    return None


def apply_state(session: Session, run: FlowRunModel, state: str, message: str | None,
                now: datetime, lease_timeout: float) -> None:
    """Move ``run`` to ``state`` (already checked), record it, and fix up its lease."""
    if run.state in LEASED and state not in LEASED:
        # its slots are free: a run held back by a label's limit may go, and its task
        # runs' tag slots (no longer counted) are cleared
        if run.labels:
            mark_due(session)
        session.execute(delete(TaskSlotModel).where(TaskSlotModel.flow_run_id == run.id))
    run.state = state
    run.state_message = message
    run.state_timestamp = now
    run.updated = now
    run.version += 1
    if state in ACTIVE:
        run.last_heartbeat = now
        run.lease_expires_at = now + timedelta(seconds=lease_timeout)
    elif state not in LEASED:  # Cancelling keeps the lease its process works under
        run.lease_id = None
        run.lease_expires_at = None
    if state in SCHEDULED:
        run.exit_code = None
        run.infrastructure_message = None
    record_state(session, run, now)
    if state == "Cancelled":
        cancel_task_runs(session, run, now)


def cancel(session: Session, run: FlowRunModel, message: str | None, now: datetime,
           lease_timeout: float) -> str | None:
    """Cancel ``run`` as a person does (no lease): Cancelled now if nothing runs it yet,
    Cancelling if a claim holds it (already Cancelling: left as it is). Returns why it
    cannot be cancelled (it has finished), or None."""
    if run.state in FINISHED:
        return (f"flow run {run.id} is already {run.state}"
                + (f" ({run.state_message})" if run.state_message else "")
                + ": a finished run cannot be cancelled")
    if run.state in ACTIVE:
        apply_state(session, run, "Cancelling", message or "cancel requested", now,
                    lease_timeout)
    elif run.state != "Cancelling":
        apply_state(session, run, "Cancelled", message or "cancelled before it started", now,
                    lease_timeout)
    cancel_children(session, run, now, lease_timeout)
    return None


def cancel_children(session: Session, parent: FlowRunModel, now: datetime,
                    lease_timeout: float) -> int:
    """Cancel the unfinished flow runs ``parent`` created (flows of flows), and theirs:
    a parent that is stopped no longer waits for them, and nothing else would stop them.
    Done here, not by the parent's process, so it holds when that process is dead too.
    Returns how many were cancelled."""
    query = select(FlowRunModel).where(FlowRunModel.parent_flow_run_id == parent.id,
                                       FlowRunModel.state.not_in(FINISHED | {"Cancelling"}))
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()  # as load_run(for_update): their processes write too
    children = list(session.scalars(query))
    for child in children:
        cancel(session, child, f"cancelled with its parent flow run {parent.id}", now,
               lease_timeout)
    return len(children)


def cancel_task_runs(session: Session, run: FlowRunModel, now: datetime) -> int:
    """Mark the task runs of a Cancelled ``run`` that had not finished (Running, Pending,
    ...: their process was stopped or killed) Cancelled; returns how many."""
    rows = list(session.scalars(select(TaskRunModel).where(
        TaskRunModel.flow_run_id == run.id, TaskRunModel.state.not_in(FINISHED))))
    message = "the flow run was cancelled while this task run was {}"
    for seq, row in zip(next_seqs(session, run, len(rows)), rows):
        row.state, row.message = "Cancelled", message.format(row.state)
        row.timestamp = max(now, row.timestamp)
        session.add(TaskRunStateModel(flow_run_id=run.id, seq=seq, task_slug=row.task_slug,
                                      map_index=row.map_index, state=row.state,
                                      message=row.message, timestamp=row.timestamp))
    return len(rows)


def record_state(session: Session, run: FlowRunModel, now: datetime) -> None:
    """Add ``run``'s current state to its history, as its next event."""
    [seq] = next_seqs(session, run)
    session.add(FlowRunStateModel(flow_run_id=run.id, seq=seq, state=run.state,
                                  message=run.state_message, timestamp=now, version=run.version))
    if run.state in SCHEDULED:
        mark_due(session)


def crash(session: Session, run: FlowRunModel, message: str, now: datetime,
          lease_timeout: float) -> bool:
    """Mark ``run`` Crashed, then reschedule it if it has retries left; True if it was.
    A Cancelling run ends Cancelled instead: what it was asked to do has happened."""
    if run.state == "Cancelling":
        apply_state(session, run, "Cancelled", f"cancelled: {message}", now, lease_timeout)
        return False
    apply_state(session, run, "Crashed", message, now, lease_timeout)
    return reschedule_if_retries_left(session, run, now, lease_timeout)


def reschedule_if_retries_left(session: Session, run: FlowRunModel, now: datetime,
                               lease_timeout: float) -> bool:
    if not retries_left(run):
        return False
    apply_state(session, run, "Scheduled",
                f"retry {attempts(run)} of {run.max_retries} after the run {run.state}",
                now, lease_timeout)
    run.scheduled_start = now
    return True


def crash_message(run: FlowRunModel, now: datetime) -> str:
    """Why the liveness sweeper gave up on ``run``: its last heartbeat and any exit code."""
    if run.last_heartbeat is None:
        text = "no heartbeat was ever received"
    else:
        age = (now - run.last_heartbeat).total_seconds()
        text = f"last heartbeat at {_iso(run.last_heartbeat)} ({age:.1f} s ago)"
    message = f"flow run lost: {text}; its lease expired"
    if run.exit_code is not None:
        message += f"; the infrastructure reported exit code {run.exit_code}"
    if run.infrastructure_message:
        message += f": {run.infrastructure_message}"
    return message


def _iso(moment: datetime | None) -> str:
    return "never" if moment is None else moment.isoformat(timespec="seconds")
