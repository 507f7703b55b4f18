"""Creating flow runs, one or a batch, in one transaction.

Each request is checked as a whole first (the flow exists and is not archived, the
parameters are the flow's, a parent run exists), then every run is inserted with a few
statements (:mod:`jupyter_flows.server.run_inserts`). A run whose (flow, idempotency key)
exists already is not made again: the existing one is answered, marked not new.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from fastapi import HTTPException, status
from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from jupyter_flows.api import FlowRun, FlowRunCreate, FlowSpec
from jupyter_flows.core.parameter import parameters_problem
from jupyter_flows.server.models import FlowModel, FlowRunModel, new_id
from jupyter_flows.server.run_inserts import chunks, insert_runs
from jupyter_flows.server.runs import conflict, describe_run, load_run, not_found, run_payload


def override_config(base: dict[str, Any], override: dict[str, Any] | None) -> dict[str, Any]:
    """An override of the same ``type`` (or without one) updates the flow's config; one of
    another type replaces it."""
    if override is None:
        return dict(base)
    if override.get("type", base.get("type")) != base.get("type"):
        return dict(override)
    return {**base, **override}


def resolve_flow(session: Session, body: FlowRunCreate) -> FlowModel:
    """The flow version a create request names (its id, or its name: the newest version)."""
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


class _Flows:
    """The flows a batch names, each resolved and its parameters read once."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._by_request: dict[tuple[Any, ...], FlowModel] = {}
        self._declared: dict[str, dict[str, bool]] = {}

    def get(self, body: FlowRunCreate) -> FlowModel:
        key = (body.flow_id, body.flow_name, body.project, body.flow_version)
        if key not in self._by_request:
            self._by_request[key] = resolve_flow(self.session, body)
        return self._by_request[key]

    def declared(self, flow: FlowModel) -> dict[str, bool]:
        if flow.id not in self._declared:
            self._declared[flow.id] = FlowSpec.model_validate(flow.spec).declared_parameters()
        return self._declared[flow.id]


def _row(session: Session, dialect: str, flows: _Flows, flow: FlowModel, body: FlowRunCreate,
         now: datetime) -> dict[str, Any]:
    problem = parameters_problem(flow.name, flows.declared(flow), body.parameters)
    if problem:  # refused now, not when the run starts on an agent
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail=problem)
    parent = None
    if body.parent_flow_run_id is not None:  # a prefix names it, as everywhere
        parent = load_run(session, body.parent_flow_run_id, dialect).id
    return {
        "id": new_id(), "flow_id": flow.id, "parameters": body.parameters,
        "run_config": override_config(flow.run_config, body.run_config),
        "executor": override_config(flow.executor, body.executor),
        "labels": sorted(set(flow.labels if body.labels is None else body.labels)),
        "idempotency_key": body.idempotency_key, "name": body.name,
        "parent_flow_run_id": parent, "scheduled_start": body.scheduled_start or now,
        "state": "Scheduled", "state_message": "created", "state_timestamp": now,
        "version": 1, "run_count": 0, "event_seq": 1, "auto_scheduled": False,
        "max_retries": flow.max_retries if body.max_retries is None else body.max_retries,
        "created": now, "updated": now,
    }


def _existing(session: Session, keys: set[tuple[str, str]]
              ) -> dict[tuple[str, str], FlowRunModel]:
    """The runs already made for these (flow id, idempotency key) pairs."""
    found: dict[tuple[str, str], FlowRunModel] = {}
    for chunk in chunks(sorted(keys), 500):
        found.update(((run.flow_id, run.idempotency_key or ""), run) for run in session.scalars(
            select(FlowRunModel).where(
                tuple_(FlowRunModel.flow_id, FlowRunModel.idempotency_key).in_(chunk))))
    return found


def create_runs(session: Session, dialect: str, bodies: Sequence[FlowRunCreate],
                now: datetime, *, numbered: bool = False) -> list[tuple[FlowRun, bool]]:
    """Make these runs (all or none); each answer says whether its run is new. A request
    whose idempotency key was used is answered with that run, whatever else it asks. With
    ``numbered``, a refused request's error names its index (``runs[3]: ...``)."""
    flows = _Flows(session)
    targets: list[tuple[FlowRunCreate, FlowModel]] = []
    for index, body in enumerate(bodies):
        with _numbered(index if numbered else None):
            targets.append((body, flows.get(body)))
    used = _existing(session, {(flow.id, body.idempotency_key) for body, flow in targets
                               if body.idempotency_key is not None})
    rows: list[dict[str, Any] | None] = []
    for index, (body, flow) in enumerate(targets):
        if body.idempotency_key is not None and (flow.id, body.idempotency_key) in used:
            rows.append(None)
            continue
        with _numbered(index if numbered else None):
            rows.append(_row(session, dialect, flows, flow, body, now))
    new_rows = [row for row in rows if row is not None]
    inserted = set(insert_runs(session, dialect, new_rows, now))
    made: dict[str, FlowRunModel] = {}
    for chunk in chunks(sorted(inserted), 500):
        made.update((run.id, run) for run in session.scalars(
            select(FlowRunModel).where(FlowRunModel.id.in_(chunk))))
    # made meanwhile by a concurrent request, or twice in this batch
    used.update(_existing(session, {(row["flow_id"], row["idempotency_key"])
                                    for row in new_rows if row["id"] not in inserted}))
    answers: list[tuple[FlowRun, bool]] = []
    for row, (body, flow) in zip(rows, targets):
        if row is not None and row["id"] in inserted:
            answers.append((run_payload(made[row["id"]], flow, None), True))
        else:
            answers.append((describe_run(session, used[(flow.id, body.idempotency_key or "")]),
                            False))
    return answers


@contextmanager
def _numbered(index: int | None) -> Iterator[None]:
    """Name the batch item a refusal is about in its message."""
    try:
        yield
    except HTTPException as exc:
        if index is not None:
            exc.detail = f"runs[{index}]: {exc.detail}"
        raise
