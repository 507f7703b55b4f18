"""Agents, their claims and leases, and the server's health."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from jupyter_flows.api.base import WireIn, WireOut
from jupyter_flows.api.bounds import TYPE_MAX, Labels, Name, Text
from jupyter_flows.api.flow_runs import FlowRun
from jupyter_flows.api.flows import Flow
from jupyter_flows.api.ids import AgentId, LeaseId


class AgentCreate(WireIn):
    name: Name
    type: Text = Field("local", min_length=1, max_length=TYPE_MAX)
    labels: Labels = Field(default_factory=list)


class Agent(WireOut):
    id: AgentId
    name: str
    type: str
    labels: list[str]
    created: datetime
    last_heartbeat: datetime
    online: bool


class Lease(WireOut):
    lease_id: LeaseId
    expires_at: datetime


class Claim(WireOut):
    """A claimed run, unmasked (the agent needs its secrets), with the lease to write with."""

    flow_run: FlowRun
    flow: Flow
    lease: Lease


class HeartbeatAck(WireOut):
    lease_id: LeaseId | None
    expires_at: datetime
    state: str
    version: int


class Health(WireOut):
    status: str
    version: str
    database: str
