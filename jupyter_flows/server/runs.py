"""Loading flows, runs and agents, and turning rows into wire payloads.

Responses mask secrets in run configs, parameters, storage, executors and secret-looking
parameter defaults (see :mod:`jupyter_flows.server.auth`) unless a
caller asks for the unmasked form (only the claim does).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from fastapi import HTTPException, status
from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from jupyter_flows.api import Agent, AgentMatch, Flow, FlowRun
from jupyter_flows.run_configs.labels import agent_mismatch, canonical_type
from jupyter_flows.server.auth import mask_json, mask_run_config, mask_spec
from jupyter_flows.server.models import AgentModel, FlowModel, FlowRunModel


def not_found(kind: str, id_: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no {kind} with id {id_!r}")


def conflict(detail: str) -> HTTPException:
    return HTTPException(status.HTTP_409_CONFLICT, detail=detail)


#: The shortest id prefix that names a run (UIs show 8 characters).
MIN_PREFIX = 4


def load_run(session: Session, run_id: str, dialect: str, for_update: bool = False
             ) -> FlowRunModel:
    """The run with id ``run_id``, or the one run whose id starts with it (404 when none,
    409 naming the candidates when several)."""
    query: Select[FlowRunModel] = select(FlowRunModel).where(FlowRunModel.id == run_id)
    if for_update and dialect == "postgresql":
        query = query.with_for_update()
    run = session.scalars(query).one_or_none()
    if run is None and MIN_PREFIX <= len(run_id) < 32 and _is_hex(run_id):
        candidates = list(session.scalars(select(FlowRunModel.id).where(
            FlowRunModel.id.startswith(run_id)).order_by(FlowRunModel.id).limit(6)))
        if len(candidates) > 1:
            shown = ", ".join(candidates[:5]) + (", ..." if len(candidates) > 5 else "")
            raise conflict(f"flow run id prefix {run_id!r} is ambiguous: it matches {shown}; "
                           f"give more characters")
        if candidates:
            return load_run(session, candidates[0], dialect, for_update)
    if run is None:
        raise not_found("flow run", run_id)
    return run


def _is_hex(text: str) -> bool:
    return all(c in "0123456789abcdef" for c in text)


def load_agent(session: Session, agent_id: str) -> AgentModel:
    agent = session.get(AgentModel, agent_id)
    if agent is None:
        raise not_found("agent", agent_id)
    return agent


def flow_payload(flow: FlowModel, mask: bool = True) -> Flow:
    payload = Flow.model_validate(flow)
    if mask:
        payload.run_config = mask_run_config(payload.run_config)
        payload.storage = mask_json(payload.storage)
        payload.executor = mask_json(payload.executor)
        payload.spec = mask_spec(payload.spec)
    return payload


def run_payload(run: FlowRunModel, flow: FlowModel, agent_name: str | None,
                mask: bool = True, agent_match: AgentMatch | None = None,
                waiting_for: str | None = None) -> FlowRun:
    return FlowRun(
        id=run.id, flow_id=run.flow_id, flow_name=flow.name, project=flow.project,
        flow_version=flow.version,
        parameters=mask_json(run.parameters) if mask else run.parameters,
        run_config=mask_run_config(run.run_config) if mask else run.run_config,
        executor=mask_json(run.executor) if mask else run.executor, labels=run.labels,
        idempotency_key=run.idempotency_key,
        scheduled_start=run.scheduled_start, state=run.state, state_message=run.state_message,
        state_timestamp=run.state_timestamp, version=run.version, run_count=run.run_count,
        max_retries=run.max_retries, agent_id=run.agent_id, agent_name=agent_name,
        lease_expires_at=run.lease_expires_at, last_heartbeat=run.last_heartbeat,
        exit_code=run.exit_code, parent_flow_run_id=run.parent_flow_run_id,
        created=run.created, updated=run.updated,
        auto_scheduled=run.auto_scheduled, agent_match=agent_match, waiting_for=waiting_for,
        name=run.name,
    )


def describe_run(session: Session, run: FlowRunModel, mask: bool = True,
                 agent_match: AgentMatch | None = None, waiting_for: str | None = None
                 ) -> FlowRun:
    flow = session.get(FlowModel, run.flow_id)
    assert flow is not None  # foreign key
    agent = session.get(AgentModel, run.agent_id) if run.agent_id else None
    return run_payload(run, flow, agent.name if agent else None, mask, agent_match,
                       waiting_for)


def is_online(agent: AgentModel, now: datetime, agent_timeout: float) -> bool:
    return agent.last_heartbeat >= now - timedelta(seconds=agent_timeout)


def agent_payload(agent: AgentModel, now: datetime, agent_timeout: float) -> Agent:
    return Agent(id=agent.id, name=agent.name, type=agent.type, labels=agent.labels,
                 created=agent.created, last_heartbeat=agent.last_heartbeat,
                 online=is_online(agent, now, agent_timeout))


def agent_match(session: Session, labels: list[str], run_config_type: str | None,
                now: datetime, agent_timeout: float) -> AgentMatch:
    """Whether an online agent can run a run with these labels and run-config type (the
    rule claims follow, :mod:`jupyter_flows.run_configs.labels`), and if not, why not."""
    since = now - timedelta(seconds=agent_timeout)
    online = list(session.scalars(select(AgentModel)
                                  .where(AgentModel.last_heartbeat >= since)
                                  .order_by(AgentModel.name)))
    wanted = sorted(set(labels))
    why = {a.id: agent_mismatch(wanted, run_config_type, a.labels, a.type, a.name)
           for a in online}
    matching = [a for a in online if not why[a.id]]
    if matching:
        names = ", ".join(f"{a.name!r} ({a.type})" for a in matching)
        return AgentMatch(matched=True, agent_ids=[a.id for a in matching],
                          explanation=f"{len(matching)} online agent(s) can run it: {names}")
    kind = canonical_type(run_config_type) or "universal"
    start = (f"start {'an' if kind == 'universal' else 'a ' + kind} agent"
             f"{f' whose labels include {wanted}' if wanted else ''} (`jupyter-flows agent "
             f"{kind if kind in {'docker', 'kubernetes', 'ecs'} else 'local'} start`)")
    if not online:
        return AgentMatch(
            matched=False, agent_ids=[],
            explanation=f"no agent is online (none has sent a heartbeat in the last "
                        f"{agent_timeout:g} s); {start}")
    return AgentMatch(matched=False, agent_ids=[],
                      explanation=f"no online agent can run this {kind} run with labels "
                                  f"{wanted}: {'; '.join(why.values())}; {start}")
