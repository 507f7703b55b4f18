"""Creating, listing and reading flow runs; heartbeats and infrastructure failures."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response, status
from sqlalchemy import exists, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jupyter_flows.api import (
    FlowRun,
    FlowRunCreate,
    FlowSpec,
    HeartbeatAck,
    InfrastructureFailure,
    Page,
    RunHeartbeat,
)
from jupyter_flows.api.bounds import FILTER_MAX, INT64_MAX, NAME_MAX
from jupyter_flows.core.parameter import parameters_problem
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
    record_state,
)
from jupyter_flows.server.runs import (
    agent_match,
    conflict,
    describe_run,
    load_run,
    not_found,
    run_payload,
)
from jupyter_flows.server.slots import slot_problem

router = APIRouter(prefix="/flow_runs", tags=["flow runs"])


def _override(base: dict[str, Any], override: dict[str, Any] | None) -> dict[str, Any]:
    """An override of the same ``type`` (or without one) updates the flow's config; one of
    another type replaces it."""
    if override is None:
        return dict(base)
    if override.get("type", base.get("type")) != base.get("type"):
        return dict(override)
    return {**base, **override}


def _resolve_flow(session: Session, body: FlowRunCreate) -> FlowModel:
    if body.flow_id is not None:
        flow = session.get(FlowModel, body.flow_id)
        if flow is None:
            raise not_found("flow", body.flow_id)
        if flow.archived is not None:
            raise conflict(f"flow {flow.name!r} version {flow.version} is archived: register "
                           f"it again to run it")
        return flow
    query = select(FlowModel).where(FlowModel.name == body.flow_name,
                                    FlowModel.archived.is_(None))
    if body.project is not None:
        query = query.where(FlowModel.project == body.project)
    if body.flow_version is not None:
        query = query.where(FlowModel.version == body.flow_version)
    flows = list(session.scalars(query.order_by(FlowModel.version.desc())))
    where = f"flow {body.flow_name!r}" + (f" in project {body.project!r}" if body.project else "")
    if not flows:
        version = f" version {body.flow_version}" if body.flow_version is not None else ""
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no {where}{version}")
    projects = sorted({f.project for f in flows})
    if len(projects) > 1:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                            detail=f"{where} exists in several projects ({', '.join(projects)}); "
                                   f"give project")
    return flows[0]


@router.post("", response_model=FlowRun, status_code=status.HTTP_201_CREATED,
             responses={200: {"description": "a run with this idempotency_key already existed"}})
def create_flow_run(body: FlowRunCreate, backend: BackendDep, response: Response) -> FlowRun:
    """A new run in state Scheduled; an existing run when the idempotency key was used."""

    def work(session: Session) -> tuple[FlowRun, bool]:
        now = utcnow()
        flow = _resolve_flow(session, body)
        if body.idempotency_key is not None:
            existing = session.scalars(select(FlowRunModel).where(
                FlowRunModel.flow_id == flow.id,
                FlowRunModel.idempotency_key == body.idempotency_key)).one_or_none()
            if existing is not None:
                return describe_run(session, existing), False
        problem = parameters_problem(flow.name, FlowSpec.model_validate(flow.spec)
                                     .declared_parameters(), body.parameters)
        if problem:  # refused now, not when the run starts on an agent
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=problem)
        labels = sorted(set(flow.labels if body.labels is None else body.labels))
        parent = None
        if body.parent_flow_run_id is not None:  # a prefix names it, as everywhere
            parent = load_run(session, body.parent_flow_run_id, backend.db.kind).id
        run = FlowRunModel(
            flow_id=flow.id, parameters=body.parameters,
            run_config=_override(flow.run_config, body.run_config),
            executor=_override(flow.executor, body.executor), labels=labels,
            idempotency_key=body.idempotency_key, name=body.name, parent_flow_run_id=parent,
            scheduled_start=body.scheduled_start or now, state="Scheduled",
            state_message="created", state_timestamp=now, version=1, run_count=0,
            max_retries=flow.max_retries if body.max_retries is None else body.max_retries,
            created=now, updated=now)
        session.add(run)
        session.flush()
        session.add_all([FlowRunLabelModel(flow_run_id=run.id, label=label) for label in labels])
        record_state(session, run, now)
        return run_payload(run, flow, None), True

    try:
        run, is_new = backend.db.run(work)
    except IntegrityError:  # the same idempotency key, committed concurrently
        run, is_new = backend.db.run(work)
    if not is_new:
        response.status_code = status.HTTP_200_OK
    return run


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
