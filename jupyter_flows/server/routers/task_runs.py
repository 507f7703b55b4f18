"""Task run states of a flow run: batched upserts (carrying the run's lease) and a list."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.orm import Session

from jupyter_flows.api import TaskRun, TaskRunStatesWrite, WriteCount
from jupyter_flows.server.deps import BackendDep
from jupyter_flows.server.events import next_seqs
from jupyter_flows.server.models import TaskRunModel, TaskRunStateModel, utcnow
from jupyter_flows.server.orchestration import lease_problem
from jupyter_flows.server.runs import conflict, load_run

router = APIRouter(prefix="/flow_runs", tags=["task runs"])


def _payload(row: TaskRunModel) -> TaskRun:
    return TaskRun(task_slug=row.task_slug, map_index=None if row.map_index < 0 else row.map_index,
                   state=row.state, message=row.message, timestamp=row.timestamp,
                   started=row.started, location=row.result_location)


@router.post("/{flow_run_id}/task_runs", response_model=WriteCount)
def set_task_run_states(flow_run_id: str, body: TaskRunStatesWrite, backend: BackendDep
                        ) -> WriteCount:
    """Upsert each task run's state; a write older than the stored state is ignored (writes
    from several workers may arrive out of order). ``count`` is how many were applied."""

    def work(session: Session) -> WriteCount:
        now = utcnow()
        run = load_run(session, flow_run_id, backend.db.kind, for_update=True)
        problem = lease_problem(run, body.lease_id, now)
        if problem:
            raise conflict(problem)
        slugs = {item.task_slug for item in body.task_runs}
        stored = {(row.task_slug, row.map_index): row for row in session.scalars(
            select(TaskRunModel).where(TaskRunModel.flow_run_id == run.id,
                                       TaskRunModel.task_slug.in_(slugs)))}
        applied: list[TaskRunModel] = []
        for item in body.task_runs:
            key = (item.task_slug, -1 if item.map_index is None else item.map_index)
            when = item.timestamp or now
            row = stored.get(key)
            if row is None:
                row = stored[key] = TaskRunModel(flow_run_id=run.id, task_slug=key[0],
                                                 map_index=key[1], state=item.state,
                                                 message=item.message, timestamp=when)
                session.add(row)
            elif row.timestamp > when:
                continue
            else:
                row.state, row.message, row.timestamp = item.state, item.message, when
            if item.location is not None:
                row.result_location = item.location
            if item.state == "Running" and row.started is None:
                row.started = when
            applied.append(row)
        for seq, row in zip(next_seqs(session, run, len(applied)), applied):
            session.add(TaskRunStateModel(flow_run_id=run.id, seq=seq, task_slug=row.task_slug,
                                          map_index=row.map_index, state=row.state,
                                          message=row.message, timestamp=row.timestamp))
        return WriteCount(count=len(applied))

    return backend.db.run(work)


@router.get("/{flow_run_id}/task_runs", response_model=list[TaskRun])
def read_task_runs(flow_run_id: str, backend: BackendDep) -> list[TaskRun]:
    """Ordered by task slug, then map index (the parent before its children)."""

    def work(session: Session) -> list[TaskRun]:
        run = load_run(session, flow_run_id, backend.db.kind)
        rows = session.scalars(select(TaskRunModel)
                               .where(TaskRunModel.flow_run_id == run.id)
                               .order_by(TaskRunModel.task_slug, TaskRunModel.map_index))
        return [_payload(row) for row in rows]

    return backend.db.run(work, write=False)
