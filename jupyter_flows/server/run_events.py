"""Reading what happened: a run's events after a cursor, and the objects the list feed names.

A run's events are rows of three tables (its states, task-run states and logs) that share the
run's gapless ``seq``. A page reads each table for ``after < seq <= upto``, where ``upto`` is
the run's ``event_seq`` read first: every row up to it was committed by then (they are
written in the transaction that counted them, and such transactions commit in ``seq``
order), so a page is always a prefix with no holes, whatever commits while it is read.
"""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from jupyter_flows.api import (
    ChangeEvent,
    FlowRunStateEvent,
    LogEvent,
    RunEvent,
    RunEventPage,
    TaskRunStateEvent,
)
from jupyter_flows.server.events import Change
from jupyter_flows.server.models import (
    AgentModel,
    FlowModel,
    FlowRunModel,
    FlowRunStateModel,
    LogModel,
    TaskRunStateModel,
    utcnow,
)
from jupyter_flows.server.orchestration import FINISHED
from jupyter_flows.server.runs import agent_payload, describe_run, flow_payload, load_run


def read_run_events(session: Session, run_id: str, after: int, limit: int,
                    dialect: str) -> RunEventPage:
    run = load_run(session, run_id, dialect)
    upto = min(run.event_seq, after + limit)
    events: list[RunEvent] = []
    if upto > after:
        events.extend(
            FlowRunStateEvent(seq=row.seq, flow_run_id=run.id, state=row.state,
                              message=row.message, timestamp=row.timestamp, version=row.version)
            for row in _rows(session, FlowRunStateModel, run.id, after, upto))
        events.extend(
            TaskRunStateEvent(seq=row.seq, flow_run_id=run.id, task_slug=row.task_slug,
                              map_index=None if row.map_index < 0 else row.map_index,
                              state=row.state, message=row.message, timestamp=row.timestamp)
            for row in _rows(session, TaskRunStateModel, run.id, after, upto))
        events.extend(
            LogEvent(seq=row.seq, flow_run_id=run.id, id=row.id, timestamp=row.timestamp,
                     level=row.level, message=row.message, task_slug=row.task_slug,
                     map_index=row.map_index)
            for row in _rows(session, LogModel, run.id, after, upto))
        events.sort(key=lambda event: event.seq)
    next_after = max(upto, after)
    return RunEventPage(items=events, next_after=next_after, state=run.state,
                        finished=run.state in FINISHED and next_after >= run.event_seq)


_Row = TypeVar("_Row", FlowRunStateModel, TaskRunStateModel, LogModel)


def _rows(session: Session, model: type[_Row], run_id: str, after: int, upto: int
          ) -> list[_Row]:
    return list(session.scalars(select(model).where(model.flow_run_id == run_id,
                                                    model.seq > after, model.seq <= upto)))


def load_changes(session: Session, changes: list[Change], agent_timeout: float
                 ) -> list[tuple[Change, ChangeEvent]]:
    """Each change with its object as it is now; the latest change of an object only."""
    latest = {(change.kind, change.id): change for change in changes}
    ids = {kind: [id_ for k, id_ in latest if k == kind] for kind in ("flow", "flow_run", "agent")}
    flows: dict[str, FlowModel] = {f.id: f for f in session.scalars(select(FlowModel)
                                              .where(FlowModel.id.in_(ids["flow"])))}
    runs: dict[str, FlowRunModel] = {r.id: r for r in session.scalars(select(FlowRunModel)
                                             .where(FlowRunModel.id.in_(ids["flow_run"])))}
    agents: dict[str, AgentModel] = {a.id: a for a in session.scalars(select(AgentModel)
                                               .where(AgentModel.id.in_(ids["agent"])))}
    now = utcnow()
    out = []
    for change in sorted(latest.values(), key=lambda c: c.seq):
        event = ChangeEvent(kind=change.kind, id=change.id)
        if change.kind == "flow" and change.id in flows:
            event.flow = flow_payload(flows[change.id])
        elif change.kind == "flow_run" and change.id in runs:
            event.flow_run = describe_run(session, runs[change.id])
        elif change.kind == "agent" and change.id in agents:
            event.agent = agent_payload(agents[change.id], now, agent_timeout)
        out.append((change, event))
    return out
