"""Creating, listing and reading flow runs; heartbeats and infrastructure failures."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from jupyter_flows.api import (
    FlowRun,
    FlowRunBatch,
    FlowRunBatchResult,
    FlowRunCreate,
    HeartbeatAck,
    InfrastructureFailure,
    Page,
    RunHeartbeat,
)
from jupyter_flows.api.bounds import FILTER_MAX, INT64_MAX, NAME_MAX
from jupyter_flows.server.deps import BackendDep
from jupyter_flows.server.models import (
    AgentModel,
    FlowModel,
    FlowRunLabelModel,
    FlowRunModel,
    utcnow,
)
from jupyter_flows.server.orchestration import (
    CLAIMABLE,
    LEASED,
    apply_state,
    crash,
    lease_problem,
)
from jupyter_flows.server.run_creation import create_runs
from jupyter_flows.server.runs import (
    agent_match,
    conflict,
    describe_run,
    load_run,
    run_payload,
)
from jupyter_flows.server.slots import slot_problem

router = APIRouter(prefix="/flow_runs", tags=["flow runs"])


@router.post("", response_model=FlowRun, status_code=status.HTTP_201_CREATED,
             responses={200: {"description": "a run with this idempotency_key already existed"}})
def create_flow_run(body: FlowRunCreate, backend: BackendDep, response: Response) -> FlowRun:
    """A new run in state Scheduled; an existing run when the idempotency key was used."""
    [(run, is_new)] = backend.db.run(
        lambda session: create_runs(session, backend.db.kind, [body], utcnow()))
    if not is_new:
        response.status_code = status.HTTP_200_OK
    return run


@router.post("/batch", response_model=FlowRunBatchResult, status_code=status.HTTP_201_CREATED)
def create_flow_runs(body: FlowRunBatch, backend: BackendDep) -> FlowRunBatchResult:
    """Many runs in one transaction, all or none (a refused one names its index); each
    answered in order, an existing one for an idempotency key already used."""
    answers = backend.db.run(lambda session: create_runs(
        session, backend.db.kind, body.runs, utcnow(), numbered=True))
    return FlowRunBatchResult(runs=[run for run, _ in answers],
                              created=sum(1 for _, is_new in answers if is_new))


@router.get("", response_model=Page[FlowRun])
def list_flow_runs(
    backend: BackendDep,
    flow_id: Annotated[str | None, Query(max_length=NAME_MAX)] = None,
    flow_name: Annotated[str | None, Query(max_length=NAME_MAX)] = None,
    state: Annotated[list[str] | None, Query(description="any of these states",
                                             max_length=FILTER_MAX)] = None,
    labels: Annotated[list[str] | None, Query(description="runs having all these labels",
                                              max_length=FILTER_MAX)] = None,
    parent: Annotated[str | None, Query(description="the runs created from within this run "
                                                    "(its children)", max_length=32)] = None,
    upcoming: Annotated[bool, Query(description="only Scheduled runs still to start, soonest "
                                                "first")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=INT64_MAX)] = 0,
) -> Page[FlowRun]:
    """Newest first (with ``upcoming``: soonest to start first); ``agent_match`` is only
    filled in by ``GET /flow_runs/{id}``."""

    def work(session: Session) -> Page[FlowRun]:
        query = select(FlowRunModel.id).join(FlowModel, FlowModel.id == FlowRunModel.flow_id)
        if flow_id is not None:
            query = query.where(FlowRunModel.flow_id == flow_id)
        if flow_name is not None:
            query = query.where(FlowModel.name == flow_name)
        if state:
            query = query.where(FlowRunModel.state.in_(state))
        if parent is not None:
            parent_id = load_run(session, parent, backend.db.kind).id
            query = query.where(FlowRunModel.parent_flow_run_id == parent_id)
        for label in labels or ():
            query = query.where(exists().where(FlowRunLabelModel.flow_run_id == FlowRunModel.id,
                                               FlowRunLabelModel.label == label))
        if upcoming:
            query = query.where(FlowRunModel.state == "Scheduled",
                                FlowRunModel.scheduled_start > utcnow())
        order = ((FlowRunModel.scheduled_start, FlowRunModel.id) if upcoming
                 else (FlowRunModel.created.desc(), FlowRunModel.id))
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        page = (select(FlowRunModel, FlowModel, AgentModel.name)
                .join(FlowModel, FlowModel.id == FlowRunModel.flow_id)
                .outerjoin(AgentModel, AgentModel.id == FlowRunModel.agent_id)
                .where(FlowRunModel.id.in_(query))
                .order_by(*order)
                .limit(limit).offset(offset))
        items = [run_payload(run, flow, agent_name)
                 for run, flow, agent_name in session.execute(page)]
        return Page[FlowRun](items=items, total=total, limit=limit, offset=offset)

    return backend.db.run(work, write=False)


@router.get("/{flow_run_id}", response_model=FlowRun)
def get_flow_run(flow_run_id: str, backend: BackendDep) -> FlowRun:
    """One run, with ``agent_match``: can an online agent run it, and if not, why not."""
    settings = backend.settings

    def work(session: Session) -> FlowRun:
        run = load_run(session, flow_run_id, backend.db.kind)
        now = utcnow()
        match = agent_match(session, run.labels, (run.run_config or {}).get("type"), now,
                            settings.agent_timeout)
        waiting = None
        if run.state in CLAIMABLE and run.scheduled_start <= now and run.labels:
            waiting = slot_problem(session, run.id, lock=False)
        return describe_run(session, run, agent_match=match, waiting_for=waiting)

    return backend.db.run(work, write=False)


@router.post("/{flow_run_id}/heartbeat", response_model=HeartbeatAck)
def run_heartbeat(flow_run_id: str, body: RunHeartbeat, backend: BackendDep) -> HeartbeatAck:
    """Renew the run's lease for another ``lease_timeout`` seconds. The answer's ``state``
    says ``Cancelling`` once a cancel was requested (the heartbeat's way of telling the
    flow-run process and the agent, besides the events stream)."""
    timeout = backend.settings.lease_timeout

    def work(session: Session) -> HeartbeatAck:
        now = utcnow()
        run = load_run(session, flow_run_id, backend.db.kind, for_update=True)
        if run.state not in LEASED:
            why = f" ({run.state_message})" if run.state_message else ""
            raise conflict(f"flow run {run.id} is {run.state}: only Submitted, Running or "
                           f"Cancelling runs heartbeat{why}")
        problem = lease_problem(run, body.lease_id, now)
        if problem:
            raise conflict(problem)
        run.last_heartbeat = now
        run.lease_expires_at = now + timedelta(seconds=timeout)
        return HeartbeatAck(lease_id=run.lease_id, expires_at=run.lease_expires_at,
                            state=run.state, version=run.version)

    return backend.db.run(work)


@router.post("/{flow_run_id}/infrastructure_failure", response_model=FlowRun)
def infrastructure_failure(flow_run_id: str, body: InfrastructureFailure,
                           backend: BackendDep) -> FlowRun:
    """The process running the flow is gone: a Submitted or Running run is Crashed now (and
    rescheduled if it has retries left); a finished run is left as it is."""
    timeout = backend.settings.lease_timeout

    def work(session: Session) -> FlowRun:
        now = utcnow()
        run = load_run(session, flow_run_id, backend.db.kind, for_update=True)
        if run.state not in LEASED:
            return describe_run(session, run)
        problem = lease_problem(run, body.lease_id, now)
        if problem:
            raise conflict(problem)
        run.exit_code = body.exit_code
        run.infrastructure_message = body.message or None
        if run.state == "Cancelling":  # e.g. its agent killed it after the grace period
            apply_state(session, run, "Cancelled", body.message or "cancelled: its process "
                        f"ended (exit code {body.exit_code})", now, timeout)
            return describe_run(session, run)
        code = "" if body.exit_code is None else f" with exit code {body.exit_code}"
        detail = f": {body.message}" if body.message else ""
        last = run.last_heartbeat.isoformat(timespec="seconds") if run.last_heartbeat else "never"
        message = f"the infrastructure running it failed{code}{detail} (last heartbeat {last})"
        crash(session, run, message, now, timeout)
        return describe_run(session, run)

    return backend.db.run(work)
