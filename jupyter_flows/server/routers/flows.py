"""Registering flows (a new version per changed spec), reading them back, and showing,
pausing and resuming their schedules."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Response, status
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from jupyter_flows.api import (
    Flow,
    FlowCreate,
    FlowRegistration,
    FlowSchedule,
    Page,
    ScheduleUpdate,
    spec_hash,
)
from jupyter_flows.api.bounds import INT64_MAX, NAME_MAX
from jupyter_flows.server.deps import BackendDep
from jupyter_flows.server.events import mark_changed
from jupyter_flows.server.models import FlowModel, FlowRunModel, utcnow
from jupyter_flows.server.runs import flow_payload, not_found
from jupyter_flows.server.scheduler import (
    ScheduleLimits,
    delete_unclaimed_runs,
    flow_schedule,
    is_latest,
    latest_version,
    schedule_flow,
)

router = APIRouter(prefix="/flows", tags=["flows"])


@router.post("", response_model=FlowRegistration, status_code=status.HTTP_201_CREATED,
             responses={200: {"description": "the spec was already registered: that version "
                                             "(its storage, run config etc. updated)"}})
def register_flow(body: FlowCreate, backend: BackendDep, response: Response
                  ) -> FlowRegistration:
    """A new version when the spec changed; the same spec returns its existing version."""
    digest = spec_hash(body.spec)
    limits = ScheduleLimits.of(backend.settings)

    def work(session: Session) -> FlowRegistration:
        now = utcnow()
        existing = session.scalars(select(FlowModel).where(
            FlowModel.project == body.project, FlowModel.name == body.name,
            FlowModel.spec_hash == digest)).one_or_none()
        deployment = {"storage": body.storage, "run_config": body.run_config,
                      "executor": body.executor, "labels": body.labels,
                      "max_retries": body.max_retries,
                      "schedule_active": body.set_schedule_active}
        if existing is not None:
            if existing.archived is not None:  # registered again: in use again
                existing.archived = None
                existing.updated = now
                mark_changed(session, "flow", [existing.id])
            if any(getattr(existing, k) != v for k, v in deployment.items()):
                for key, value in deployment.items():
                    setattr(existing, key, value)
                existing.updated = now
                mark_changed(session, "flow", [existing.id])
                # its runs were made from the old deployment (or the schedule is now off)
                delete_unclaimed_runs(session, existing.project, existing.name)
            if is_latest(session, existing):
                schedule_flow(session, backend.db.kind, existing, now, limits)
            return FlowRegistration(**flow_payload(existing).model_dump(), is_new=False)
        latest = session.scalar(select(func.max(FlowModel.version)).where(
            FlowModel.project == body.project, FlowModel.name == body.name)) or 0
        flow = FlowModel(name=body.name, project=body.project, version=latest + 1,
                         spec_hash=digest, spec=body.spec.as_json(), created=now, updated=now,
                         **deployment)
        session.add(flow)
        session.flush()
        mark_changed(session, "flow", [flow.id])
        # the schedule belongs to the latest version: older versions' unclaimed runs go
        delete_unclaimed_runs(session, flow.project, flow.name, keep_flow_id=flow.id)
        schedule_flow(session, backend.db.kind, flow, now, limits)
        return FlowRegistration(**flow_payload(flow).model_dump(), is_new=True)

    try:
        result = backend.db.run(work)
    except IntegrityError:  # a concurrent registration of the same flow won; read it
        result = backend.db.run(work)
    if not result.is_new:
        response.status_code = status.HTTP_200_OK
    return result


@router.get("", response_model=Page[Flow])
def list_flows(backend: BackendDep,
               name: Annotated[str | None, Query(max_length=NAME_MAX)] = None,
               project: Annotated[str | None, Query(max_length=NAME_MAX)] = None,
               limit: Annotated[int, Query(ge=1, le=500)] = 50,
               offset: Annotated[int, Query(ge=0, le=INT64_MAX)] = 0,
               archived: Annotated[bool, Query(description="include archived flows")] = False,
               ) -> Page[Flow]:
    """Newest first; archived flows only with ``archived=true``."""
    def work(session: Session) -> Page[Flow]:
        query = select(FlowModel)
        if not archived:
            query = query.where(FlowModel.archived.is_(None))
        if name is not None:
            query = query.where(FlowModel.name == name)
        if project is not None:
            query = query.where(FlowModel.project == project)
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.scalars(query.order_by(FlowModel.created.desc(), FlowModel.version.desc())
                               .limit(limit).offset(offset))
        return Page[Flow](items=[flow_payload(f) for f in rows], total=total, limit=limit,
                          offset=offset)

    return backend.db.run(work, write=False)


@router.get("/{flow_id}", response_model=Flow)
def get_flow(flow_id: str, backend: BackendDep) -> Flow:
    def work(session: Session) -> Flow:
        flow = session.get(FlowModel, flow_id)
        if flow is None:
            raise not_found("flow", flow_id)
        return flow_payload(flow)

    return backend.db.run(work, write=False)


def _schedule_payload(session: Session, flow: FlowModel, now: datetime) -> FlowSchedule:
    schedule = flow_schedule(flow)
    upcoming = session.scalar(select(func.count()).select_from(FlowRunModel).where(
        FlowRunModel.flow_id == flow.id, FlowRunModel.auto_scheduled.is_(True),
        FlowRunModel.state == "Scheduled", FlowRunModel.scheduled_start > now)) or 0
    return FlowSchedule(flow_id=flow.id, name=flow.name, project=flow.project,
                        version=flow.version, schedule=schedule,
                        active=flow.schedule_active and schedule is not None,
                        description=schedule.describe() if schedule else None,
                        next_times=schedule.next(5, after=now) if schedule else [],
                        upcoming_runs=upcoming)


def _latest_of(session: Session, flow_id: str) -> FlowModel:
    flow = session.get(FlowModel, flow_id)
    if flow is None:
        raise not_found("flow", flow_id)
    latest = latest_version(session, flow.project, flow.name)
    assert latest is not None
    return latest


@router.get("/{flow_id}/schedule", response_model=FlowSchedule)
def get_schedule(flow_id: str, backend: BackendDep) -> FlowSchedule:
    """The schedule the backend runs for this flow: its latest version's (any version's id
    names the flow), whether it is active, its next five times and its upcoming runs."""
    def work(session: Session) -> FlowSchedule:
        return _schedule_payload(session, _latest_of(session, flow_id), utcnow())

    return backend.db.run(work, write=False)


@router.post("/{flow_id}/schedule", response_model=FlowSchedule)
def set_schedule(flow_id: str, body: ScheduleUpdate, backend: BackendDep) -> FlowSchedule:
    """Pause (``active: false``: the flow's unclaimed scheduled runs are deleted) or resume
    (``active: true``: its upcoming runs are made again at once) the flow's schedule."""
    limits = ScheduleLimits.of(backend.settings)

    def work(session: Session) -> FlowSchedule:
        now = utcnow()
        flow = _latest_of(session, flow_id)
        if flow_schedule(flow) is None and body.active:
            raise HTTPException(status.HTTP_409_CONFLICT,
                                detail=f"flow {flow.name!r} version {flow.version} has no "
                                       f"schedule to resume; register it with one")
        if flow.schedule_active != body.active:
            flow.schedule_active = body.active
            # a resumed schedule's times while paused are not missed runs
            flow.updated = now
            mark_changed(session, "flow", [flow.id])
        if body.active:
            schedule_flow(session, backend.db.kind, flow, now, limits)
        else:
            delete_unclaimed_runs(session, flow.project, flow.name)
        return _schedule_payload(session, flow, now)

    return backend.db.run(work)
