"""Restarting a finished, unsuccessful flow run from where it failed.

The same run (same id, same history) goes back to ``Scheduled`` and an agent claims it again;
its history shows ``restarted (attempt N)`` between the attempts. The run keeps its id so
that everything that points at it (a parent flow run waiting for it, links, the notebook's
last run, the logs) stays valid, and its timeline shows every attempt.

Which task runs run again is written on the task runs themselves, so the flow-run process
needs nothing else to know it: a task run that is kept stays as it is (``Success`` or
``Cached`` with a checkpointed ``result_location``, which the process loads); every other
task run goes back to ``Pending`` ("to run again") and runs again, and so does a task that
never ran (it has no row). A mapped task's children are judged one by one; its parent row
is kept only when all of its children are. With ``from_task``, that task and everything
downstream of it (by the flow's spec) run again whatever their state.

A restart also gives the run its whole retry budget again: the retry rule counts the claims
since the last restart (``flow_runs.restarted_after``), while ``run_count`` goes on counting
every claim, so "attempt N" in the history is the run's Nth claim.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from jupyter_flows.api.task_runs import KEPT_ON_RESTART
from jupyter_flows.server.events import next_seqs
from jupyter_flows.server.models import FlowRunModel, TaskRunModel, TaskRunStateModel
from jupyter_flows.server.orchestration import FAILED, SUCCEEDED, apply_state

#: The states a run may be restarted from: finished, but not successfully.
RESTARTABLE = FAILED | {"Cancelled"}


def restart_problem(run: FlowRunModel) -> str | None:
    """Why ``run`` cannot be restarted now, or None when it can."""
    if run.state in RESTARTABLE:
        return None
    if run.state in SUCCEEDED:
        why = "it succeeded: there is nothing to run again (start a new run instead)"
    else:
        why = "it has not finished (cancel it first, then restart it)"
    return (f"flow run {run.id} is {run.state}: {why}; only a "
            f"{', '.join(sorted(RESTARTABLE))} run can be restarted")


def downstream_of(spec: dict[str, Any], slug: str) -> set[str]:
    """``slug`` and every task downstream of it in the flow's spec."""
    children: dict[str, set[str]] = defaultdict(set)
    for edge in spec.get("edges") or ():
        children[edge["upstream"]].add(edge["downstream"])
    found, todo = {slug}, [slug]
    while todo:
        for child in children[todo.pop()] - found:
            found.add(child)
            todo.append(child)
    return found


def from_task_problem(spec: dict[str, Any], slug: str) -> str | None:
    """Why ``slug`` names no task of the flow's spec, or None."""
    slugs = sorted(t["slug"] for t in spec.get("tasks") or ())
    if slug in slugs:
        return None
    return f"from_task: the flow has no task {slug!r}; its tasks: {', '.join(slugs) or 'none'}"


def restart(session: Session, run: FlowRunModel, spec: dict[str, Any], from_task: str | None,
            now: datetime, lease_timeout: float) -> tuple[int, int]:
    """Move ``run`` (checked with :func:`restart_problem`) back to ``Scheduled`` and mark
    the task runs that must run again ``Pending``. Returns (kept, to run again) counts."""
    rows = list(session.scalars(select(TaskRunModel).where(TaskRunModel.flow_run_id == run.id)
                                .order_by(TaskRunModel.task_slug, TaskRunModel.map_index)))
    forced = downstream_of(spec, from_task) if from_task is not None else set()

    def kept(row: TaskRunModel) -> bool:
        return (row.task_slug not in forced and row.state in KEPT_ON_RESTART
                and bool(row.result_location))

    by_task: dict[str, list[TaskRunModel]] = defaultdict(list)
    for row in rows:
        by_task[row.task_slug].append(row)
    again: list[TaskRunModel] = []
    for task_rows in by_task.values():
        children = [r for r in task_rows if r.map_index >= 0]
        parent = next((r for r in task_rows if r.map_index < 0), None)
        if children:
            redo = [r for r in children if not kept(r)]
            again += redo
            if parent is not None and (redo or parent.state not in SUCCEEDED):
                again.append(parent)
        elif parent is not None and not kept(parent):
            again.append(parent)
    attempt = run.run_count + 1
    message = f"restarted (attempt {attempt})" + (
        f" from task {from_task!r}" if from_task is not None else "")
    task_message = f"to run again: the flow run was {message}"
    for seq, row in zip(next_seqs(session, run, len(again)), again):
        row.state, row.message = "Pending", task_message
        row.timestamp = max(now, row.timestamp)
        row.started = None
        row.result_location = None
        session.add(TaskRunStateModel(flow_run_id=run.id, seq=seq, task_slug=row.task_slug,
                                      map_index=row.map_index, state=row.state,
                                      message=row.message, timestamp=row.timestamp))
    kept_count = len(rows) - len(again)
    apply_state(session, run, "Scheduled",
                f"{message}: {len(again)} task run(s) to run again, {kept_count} kept",
                now, lease_timeout)
    run.scheduled_start = now
    run.restarted_after = run.run_count  # the retry rule counts claims from here
    return kept_count, len(again)
