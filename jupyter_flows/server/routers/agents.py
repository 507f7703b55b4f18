"""Agents: registration, heartbeats, the list (with who is online), and claiming runs."""

from __future__ import annotations

import asyncio
from contextlib import suppress
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from jupyter_flows.api import Agent, AgentCreate, Claim, Lease
from jupyter_flows.api.bounds import WAIT_MAX
from jupyter_flows.server.claims import claim_one, has_due_run, next_start
from jupyter_flows.server.deps import BackendDep
from jupyter_flows.server.events import mark_changed
from jupyter_flows.server.models import AgentModel, FlowModel, utcnow
from jupyter_flows.server.runs import agent_payload, describe_run, flow_payload, load_agent

router = APIRouter(prefix="/agents", tags=["agents"])


@router.post("", response_model=Agent)
def register_agent(body: AgentCreate, backend: BackendDep) -> Agent:
    """Agents are known by name: registering a name again updates that agent and keeps its id."""
    timeout = backend.settings.agent_timeout

    def work(session: Session) -> Agent:
        now = utcnow()
        agent = session.scalars(select(AgentModel).where(AgentModel.name == body.name)
                                ).one_or_none()
        if agent is None:
            agent = AgentModel(name=body.name, created=now)
            session.add(agent)
        agent.type, agent.labels, agent.last_heartbeat = body.type, sorted(set(body.labels)), now
        session.flush()
        mark_changed(session, "agent", [agent.id])
        return agent_payload(agent, now, timeout)

    return backend.db.run(work)


@router.get("", response_model=list[Agent])
def list_agents(backend: BackendDep) -> list[Agent]:
    """All agents by name; ``online`` means a heartbeat (or claim) within ``agent_timeout``."""
    timeout = backend.settings.agent_timeout

    def work(session: Session) -> list[Agent]:
        now = utcnow()
        return [agent_payload(agent, now, timeout)
                for agent in session.scalars(select(AgentModel).order_by(AgentModel.name))]

    return backend.db.run(work, write=False)


@router.get("/{agent_id}", response_model=Agent)
def get_agent(agent_id: str, backend: BackendDep) -> Agent:
    timeout = backend.settings.agent_timeout
    return backend.db.run(lambda s: agent_payload(load_agent(s, agent_id), utcnow(), timeout),
                          write=False)


@router.post("/{agent_id}/heartbeat", response_model=Agent)
def agent_heartbeat(agent_id: str, backend: BackendDep) -> Agent:
    timeout = backend.settings.agent_timeout

    def work(session: Session) -> Agent:
        now = utcnow()
        agent = load_agent(session, agent_id)
        agent.last_heartbeat = now
        mark_changed(session, "agent", [agent.id])
        return agent_payload(agent, now, timeout)

    return backend.db.run(work)


@router.post("/{agent_id}/claim", response_model=Claim,
             responses={204: {"description": "no due run matched within the wait"}})
async def claim(agent_id: str, request: Request, backend: BackendDep,
                wait: Annotated[float, Query(ge=0, le=WAIT_MAX, allow_inf_nan=False,
                                             description="seconds to long-poll; "
                                                         "capped by the server")] = 0.0,
                ) -> Claim | Response:
    """The oldest due Scheduled run whose labels are all among the agent's, now Submitted
    and leased to this agent; waits up to ``wait`` seconds for one, else 204."""
    settings, db, wakeup = backend.settings, backend.db, backend.events.claims
    loop = asyncio.get_running_loop()
    deadline = loop.time() + min(wait, settings.claim_max_wait)

    refresh = timedelta(seconds=min(5.0, settings.agent_timeout / 4))

    def look(session: Session) -> tuple[bool, float]:
        """(whether to take the write lock, seconds to sleep at most before looking again)"""
        now = utcnow()
        agent = load_agent(session, agent_id)
        if agent.last_heartbeat < now - refresh or has_due_run(session, agent, now):
            return True, 0.0
        upcoming = next_start(session, agent, now)
        if upcoming is None:
            return False, settings.claim_poll_interval
        return False, min(settings.claim_poll_interval,
                          max((upcoming - now).total_seconds(), 0.0) + 0.001)

    def take(session: Session) -> Claim | None:
        now = utcnow()
        agent = load_agent(session, agent_id)
        run = claim_one(session, agent, now, settings.lease_timeout, db.kind)
        if run is None:
            return None
        flow = session.get(FlowModel, run.flow_id)
        assert flow is not None and run.lease_id is not None
        assert run.lease_expires_at is not None
        return Claim(flow_run=describe_run(session, run, mask=False),
                     flow=flow_payload(flow, mask=False),
                     lease=Lease(lease_id=run.lease_id, expires_at=run.lease_expires_at))

    while True:
        waiter = wakeup.waiter()  # before looking, so a run created meanwhile wakes us
        worth_taking, pause = await run_in_threadpool(db.run, look, False)
        if worth_taking:
            found = await run_in_threadpool(db.run, take)
            if found is not None:
                return found
            pause = settings.claim_poll_interval
        remaining = deadline - loop.time()
        if remaining <= 0 or wakeup.closed or await request.is_disconnected():
            return Response(status_code=status.HTTP_204_NO_CONTENT)
        with suppress(TimeoutError):
            await asyncio.wait_for(waiter.wait(), timeout=min(remaining, pause))
