"""Concurrency limits: list them with their slots in use, set one, remove one."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from jupyter_flows.api import ConcurrencyLimit, LimitKind, LimitSet
from jupyter_flows.api.bounds import NAME_MAX
from jupyter_flows.server.deps import BackendDep
from jupyter_flows.server.events import mark_due
from jupyter_flows.server.models import ConcurrencyLimitModel, utcnow
from jupyter_flows.server.runs import not_found
from jupyter_flows.server.slots import Usage, usage

router = APIRouter(prefix="/limits", tags=["limits"])

NameArg = Annotated[str, Path(min_length=1, max_length=NAME_MAX,
                              description="the label the limit counts runs by")]


def _payload(session: Session, used: Usage) -> ConcurrencyLimit:
    row = session.get(ConcurrencyLimitModel, (used.kind, used.name))
    assert row is not None
    return ConcurrencyLimit(kind=row.kind, name=row.name, limit=row.limit,
                            in_use=used.in_use, created=row.created, updated=row.updated)


@router.get("", response_model=list[ConcurrencyLimit])
def list_limits(backend: BackendDep) -> list[ConcurrencyLimit]:
    """Every limit by kind and name, with how many runs hold one of its slots now."""
    return backend.db.run(lambda s: [_payload(s, used) for used in usage(s)], write=False)


@router.put("/{kind}/{name}", response_model=ConcurrencyLimit)
def set_limit(kind: LimitKind, name: NameArg, body: LimitSet, backend: BackendDep
              ) -> ConcurrencyLimit:
    """Create or change the limit; runs already holding slots keep them."""
    dialect = postgresql if backend.db.kind == "postgresql" else sqlite

    def work(session: Session) -> ConcurrencyLimit:
        now = utcnow()
        # one statement, so two setting the same new limit at once cannot collide
        insert = dialect.insert(ConcurrencyLimitModel).values(
            kind=kind, name=name, limit=body.limit, created=now, updated=now)
        session.execute(insert.on_conflict_do_update(
            index_elements=["kind", "name"], set_={"limit": body.limit, "updated": now}))
        mark_due(session)  # a raised limit lets waiting runs go
        [used] = usage(session, kind, [name])
        return _payload(session, used)

    return backend.db.run(work)


@router.delete("/{kind}/{name}", response_model=ConcurrencyLimit,
               responses={404: {"description": "no such limit"}})
def delete_limit(kind: LimitKind, name: NameArg, backend: BackendDep) -> ConcurrencyLimit:
    """Remove the limit (its runs are no longer held back); answers what it was."""

    def work(session: Session) -> ConcurrencyLimit:
        found = usage(session, kind, [name], lock=backend.db.kind == "postgresql")
        if not found:
            raise not_found(f"{kind} concurrency limit", name)
        removed = _payload(session, found[0])
        session.execute(delete(ConcurrencyLimitModel).where(
            ConcurrencyLimitModel.kind == kind, ConcurrencyLimitModel.name == name))
        mark_due(session)
        return removed

    return backend.db.run(work)
