"""Checkpoints for backend runs, and what a restarted run keeps of its earlier attempt.

A backend run checkpoints every task's result by default (:func:`checkpoint_by_default`):
a restart (``POST /api/flow_runs/{id}/restart``) reuses the results of the task runs that
succeeded, so they must have been written somewhere a later process can read. Where: the
flow's own ``result=Result(...)`` if it has one, else ``JUPYTER_FLOWS_RESULTS`` (a
directory or an fsspec URL such as ``s3://bucket/results``; an agent passes its environment
and ``--env`` on to the run), else ``~/.jupyter-flows/results`` on the machine that runs it,
which is enough for the local agent (runs restart on the same machine). For agents whose
runs start in fresh containers, set ``JUPYTER_FLOWS_RESULTS`` to shared storage. A result
that cannot be written there (it does not pickle) is logged, not a failure: that task just
runs again on a restart. A task with ``checkpoint=False`` is never written.

When the run starts, :func:`kept_task_states` reads its task runs from the backend: those the
restart kept (``Success``/``Cached`` with a ``location``; the backend marked the others
``Pending``) become seeded states whose results are loaded from their checkpoints, so the
engine runs only the rest; mapped children are seeded one by one. A checkpoint that cannot
be loaded (the file was deleted) ends the run Failed naming the task, the location and the
command that runs that task again.
"""

from __future__ import annotations

import os
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

from jupyter_flows.api.task_runs import KEPT_ON_RESTART
from jupyter_flows.engine.results import Result
from jupyter_flows.engine.states import Mapped, Pending, State, Success
from jupyter_flows.errors import ResultError
from jupyter_flows.tasks.prefect.flow_run import read_task_run_result

if TYPE_CHECKING:
    from jupyter_flows.api import TaskRun
    from jupyter_flows.client.client import Client
    from jupyter_flows.core.flow import Flow
    from jupyter_flows.core.task import Task

RESULTS_ENV = "JUPYTER_FLOWS_RESULTS"


def default_results() -> str:
    """Where a backend run without a result location writes its checkpoints."""
    return os.environ.get(RESULTS_ENV) or str(Path.home() / ".jupyter-flows" / "results")


def checkpoint_by_default(flow: Flow) -> None:
    """Give ``flow`` a result location if it has none and checkpoint every task that does
    not say ``checkpoint=False``, so that a restart of this run can reuse its results."""
    if flow.result is None:
        flow.result = Result(default_results(), best_effort=True)
    for task in flow.tasks:
        if task.checkpoint is None:
            task.checkpoint = True


def kept_task_states(client: Client, flow_run_id: str, flow: Flow) -> dict[Task, State]:
    """The seeded states of the task runs a restart of ``flow_run_id`` keeps (none for a
    run's first attempt); ResultError when a kept result cannot be loaded."""
    rows: dict[str, list[TaskRun]] = defaultdict(list)
    for row in client.get_task_runs(flow_run_id):
        rows[row.task_slug].append(row)
    seeded: dict[Task, State] = {}
    for slug, task_rows in rows.items():
        try:
            task = flow.task_by_slug(slug)
        except KeyError:  # a task of another version of the flow: nothing to seed
            continue
        children = sorted((r for r in task_rows if r.map_index is not None),
                          key=lambda r: r.map_index or 0)
        if children:
            states = [_kept(flow_run_id, r) or Pending("to run again") for r in children]
            if any(s.is_successful() for s in states):
                seeded[task] = _mapped(states)
            continue
        state = _kept(flow_run_id, task_rows[0])
        if state is not None:
            seeded[task] = state
    return seeded


def _mapped(children: list[State]) -> State:
    if all(c.is_successful() for c in children):
        parent: State = Mapped(f"mapped over {len(children)} element(s) (kept from an "
                               f"earlier attempt)", result=[c.result for c in children])
    else:  # not finished: the engine runs the children that are not
        parent = Pending("some children run again")
    parent.map_states = children
    return parent


def _kept(flow_run_id: str, row: TaskRun) -> State | None:
    if row.state not in KEPT_ON_RESTART or not row.location:
        return None
    try:
        value = read_task_run_result(row, flow_run_id)
    except ResultError as exc:
        which = row.task_slug + ("" if row.map_index is None else f"[{row.map_index}]")
        raise ResultError(
            f"cannot restart flow run {flow_run_id}: the checkpointed result of task "
            f"{which!r} cannot be loaded: {exc}; run that task again "
            f"with `jupyter-flows restart {flow_run_id} --from {row.task_slug}`") from None
    state = Success(f"kept from an earlier attempt (result read from {row.location})",
                    result=value)
    state.location = row.location
    return state
