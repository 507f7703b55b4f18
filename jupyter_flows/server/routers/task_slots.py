"""Task-run slots of tag concurrency limits: a running flow run's task runs take them before
they run and give them back when they end (see :mod:`jupyter_flows.server.slots`)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from jupyter_flows.api import TaskSlotGrant, TaskSlotRequest, WriteCount
from jupyter_flows.api.bounds import INT32_MAX, SLUG_MAX
from jupyter_flows.server.deps import BackendDep
from jupyter_flows.server.models import utcnow
from jupyter_flows.server.orchestration import lease_problem
from jupyter_flows.server.runs import conflict, load_run
from jupyter_flows.server.slots import release_task_slots, take_task_slots

router = APIRouter(prefix="/flow_runs", tags=["task runs"])


@router.post("/{flow_run_id}/task_slots", response_model=TaskSlotGrant,
             responses={409: {"description": "the lease is not valid (the run was taken "
                                             "away, or is not running)"}})
def take_slots(flow_run_id: str, body: TaskSlotRequest, backend: BackendDep) -> TaskSlotGrant:
    """One slot of each of the task run's limited tags, all or none; ``granted`` False
    (with the reason) when one is full: ask again later. Needs the run's live lease."""

    def work(session: Session) -> TaskSlotGrant:
        run = load_run(session, flow_run_id, backend.db.kind, for_update=True)
        problem = lease_problem(run, body.lease_id, utcnow())
        if problem:
            raise conflict(problem)
        index = -1 if body.map_index is None else body.map_index
        return take_task_slots(session, run.id, body.task_slug, index, body.tags,
                               lock=backend.db.kind == "postgresql")

    return backend.db.run(work)


@router.delete("/{flow_run_id}/task_slots", response_model=WriteCount)
def release_slots(
    flow_run_id: str, backend: BackendDep,
    task_slug: Annotated[str, Query(min_length=1, max_length=SLUG_MAX)],
    map_index: Annotated[int | None, Query(ge=0, le=INT32_MAX)] = None,
) -> WriteCount:
    """Give back the task run's slots (``count``: how many it held). No lease is needed: a
    run that lost its lease holds no slots that count."""

    def work(session: Session) -> WriteCount:
        run = load_run(session, flow_run_id, backend.db.kind)
        index = -1 if map_index is None else map_index
        return WriteCount(count=release_task_slots(session, run.id, task_slug, index))

    return backend.db.run(work)
