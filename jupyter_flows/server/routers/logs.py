"""A flow run's logs: batched appends, and reads after a cursor."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query
from sqlalchemy import select
from sqlalchemy.orm import Session

from jupyter_flows.api import LogPage, LogRecord, LogWrite, WriteCount
from jupyter_flows.api.bounds import BATCH_MAX, CURSOR_MAX
from jupyter_flows.server.deps import BackendDep
from jupyter_flows.server.events import next_seqs
from jupyter_flows.server.models import LogModel, utcnow
from jupyter_flows.server.runs import load_run

router = APIRouter(prefix="/flow_runs", tags=["logs"])


@router.post("/{flow_run_id}/logs", response_model=WriteCount)
def write_logs(flow_run_id: str,
               body: Annotated[list[LogWrite], Body(max_length=BATCH_MAX)],
               backend: BackendDep) -> WriteCount:
    """Append logs; no lease needed (a run's last lines may arrive after it finished)."""

    def work(session: Session) -> WriteCount:
        now = utcnow()
        run = load_run(session, flow_run_id, backend.db.kind, for_update=True)
        session.add_all([LogModel(flow_run_id=run.id, seq=seq,
                                  timestamp=item.timestamp or now, level=item.level,
                                  message=item.message, task_slug=item.task_slug,
                                  map_index=item.map_index)
                         for seq, item in zip(next_seqs(session, run, len(body)), body)])
        return WriteCount(count=len(body))

    return backend.db.run(work)


@router.get("/{flow_run_id}/logs", response_model=LogPage)
def read_logs(flow_run_id: str, backend: BackendDep,
              after: Annotated[int, Query(ge=0, le=CURSOR_MAX,
                                                  description="a log id; 0 for the start")] = 0,
              limit: Annotated[int, Query(ge=1, le=5000)] = 500) -> LogPage:
    """Logs with id > ``after``, in the order they were written."""

    def work(session: Session) -> LogPage:
        run = load_run(session, flow_run_id, backend.db.kind)
        rows = list(session.scalars(select(LogModel)
                                    .where(LogModel.flow_run_id == run.id,
                                           LogModel.id > after)
                                    .order_by(LogModel.id).limit(limit)))
        return LogPage(items=[LogRecord.model_validate(row) for row in rows],
                       next_after=rows[-1].id if rows else after)

    return backend.db.run(work, write=False)
