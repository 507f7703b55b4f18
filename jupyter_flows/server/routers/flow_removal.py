"""Archiving and deleting flows: ``DELETE /api/flows/{id}?runs=keep|delete``.

``runs=keep`` (the default) archives the flow version: it leaves the lists (``GET
/api/flows?archived=true`` still shows it), takes no new runs, and its runs stay, with
their states and logs. Registering the same spec again brings it back. ``runs=delete``
deletes the version and its runs for good (their states, task runs and logs go with them,
by the tables' ``ON DELETE CASCADE``); it is refused while a run of it is Submitted or
Running, whose process would go on writing to a run that is gone.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from jupyter_flows.api import FlowRemoval
from jupyter_flows.server.deps import BackendDep
from jupyter_flows.server.events import mark_changed
from jupyter_flows.server.models import FlowModel, FlowRunModel, utcnow
from jupyter_flows.server.orchestration import ACTIVE
from jupyter_flows.server.runs import conflict, not_found
from jupyter_flows.server.scheduler import delete_unclaimed_runs

router = APIRouter(prefix="/flows", tags=["flows"])


@router.delete("/{flow_id}", response_model=FlowRemoval,
               responses={409: {"description": "runs=delete while a run is active"}})
def remove_flow(flow_id: str, backend: BackendDep,
                runs: Annotated[Literal["keep", "delete"],
                                Query(description="keep: archive the flow, keeping its runs; "
                                                  "delete: delete it and its runs")] = "keep",
                ) -> FlowRemoval:
    """Archive a flow version (its runs kept), or delete it with its runs."""

    def work(session: Session) -> FlowRemoval:
        flow = session.get(FlowModel, flow_id)
        if flow is None:
            raise not_found("flow", flow_id)
        if runs == "keep":
            if flow.archived is None:
                flow.archived = flow.updated = utcnow()
                # an archived flow is not scheduled: the runs its schedule made go with it
                delete_unclaimed_runs(session, flow.project, flow.name, only_flow_id=flow.id)
                mark_changed(session, "flow", [flow.id])
            return FlowRemoval(id=flow.id, archived=flow.archived, deleted=False,
                               runs_deleted=0)
        run_ids = list(session.scalars(select(FlowRunModel.id)
                                       .where(FlowRunModel.flow_id == flow.id)))
        active = list(session.scalars(select(FlowRunModel.id).where(
            FlowRunModel.flow_id == flow.id, FlowRunModel.state.in_(ACTIVE)).limit(5)))
        if active:
            raise conflict(f"flow {flow.name!r} version {flow.version} has active runs "
                           f"({', '.join(active)}): cancel them or wait for them to finish, "
                           f"or archive the flow instead (runs=keep)")
        session.execute(delete(FlowRunModel).where(FlowRunModel.flow_id == flow.id))
        session.delete(flow)
        mark_changed(session, "flow_run", run_ids)
        mark_changed(session, "flow", [flow_id])
        return FlowRemoval(id=flow_id, archived=None, deleted=True, runs_deleted=len(run_ids))

    return backend.db.run(work)
