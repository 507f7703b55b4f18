"""Every payload that crosses the wire between the backend and its clients.

This module imports only pydantic and the engine's state names, so the client can use it
without FastAPI or SQLAlchemy installed.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Generic, NewType, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from jupyter_flows.engine.states import ALL_STATES

FlowId = NewType("FlowId", str)
FlowRunId = NewType("FlowRunId", str)
AgentId = NewType("AgentId", str)
LeaseId = NewType("LeaseId", str)

#: States a flow run or task run may be put in (``Finished`` is only a base class).
STATE_NAMES = tuple(name for name in ALL_STATES if name != "Finished")

T = TypeVar("T")


def _check_state(name: str) -> str:
    if name not in STATE_NAMES:
        raise ValueError(f"unknown state {name!r}; expected one of {', '.join(STATE_NAMES)}")
    return name


def _check_run_config(value: dict[str, Any] | None) -> dict[str, Any] | None:
    """A run config must parse (the message names the model, field and rule); a partial
    override without ``type`` is merged into the flow's config and checked there."""
    if value and "type" in value:
        from jupyter_flows.run_configs import run_config_from_config

        run_config_from_config(value)  # RunConfigError is a ValueError: a 422 naming it
    return value


def _check_executor(value: dict[str, Any] | None) -> dict[str, Any] | None:
    if value and "type" in value:
        from jupyter_flows.errors import ExecutorError
        from jupyter_flows.executors.base import executor_from_config

        try:
            executor_from_config(value)
        except ExecutorError as exc:
            raise ValueError(str(exc)) from None
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class Page(_Out, Generic[T]):
    """One page of a list; ``total`` counts all matches, not just this page."""

    items: list[T]
    total: int
    limit: int
    offset: int


# ----------------------------------------------------------------------------- flows
class FlowCreate(_Model):
    name: str = Field(min_length=1, max_length=200)
    project: str = Field("default", min_length=1, max_length=200)
    spec: dict[str, Any]
    storage: dict[str, Any] = Field(default_factory=dict)
    run_config: dict[str, Any] = Field(default_factory=dict)
    executor: dict[str, Any] = Field(default_factory=dict)
    labels: list[str] = Field(default_factory=list)
    max_retries: int = Field(0, ge=0)

    _run_config_ok = field_validator("run_config")(_check_run_config)
    _executor_ok = field_validator("executor")(_check_executor)


class Flow(_Out):
    id: FlowId
    name: str
    project: str
    version: int
    spec_hash: str
    spec: dict[str, Any]
    storage: dict[str, Any]
    run_config: dict[str, Any]
    executor: dict[str, Any]
    labels: list[str]
    max_retries: int
    created: datetime
    updated: datetime


class FlowRegistration(Flow):
    """A registered flow version; ``is_new`` is false when the spec was already known."""

    is_new: bool


# ------------------------------------------------------------------------- flow runs
class FlowRunCreate(_Model):
    """Name the flow by ``flow_id``, or by ``flow_name`` (+ ``project``, ``flow_version``;
    the newest version when omitted). Overrides left out come from the flow."""

    flow_id: FlowId | None = None
    flow_name: str | None = None
    project: str | None = None
    flow_version: int | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    run_config: dict[str, Any] | None = None
    executor: dict[str, Any] | None = None
    labels: list[str] | None = None
    idempotency_key: str | None = Field(None, max_length=200)
    scheduled_start: datetime | None = None
    max_retries: int | None = Field(None, ge=0)

    _run_config_ok = field_validator("run_config")(_check_run_config)
    _executor_ok = field_validator("executor")(_check_executor)

    @model_validator(mode="after")
    def _one_flow_reference(self) -> FlowRunCreate:
        if (self.flow_id is None) == (self.flow_name is None):
            raise ValueError("give exactly one of flow_id and flow_name")
        if self.flow_id is not None and (self.flow_version is not None or self.project):
            raise ValueError("flow_version and project go with flow_name, not flow_id")
        return self


class AgentMatch(_Out):
    """Whether an online agent can run this flow run, and if not, why not."""

    matched: bool
    agent_ids: list[AgentId]
    explanation: str


class FlowRun(_Out):
    id: FlowRunId
    flow_id: FlowId
    flow_name: str
    project: str
    flow_version: int
    parameters: dict[str, Any]
    run_config: dict[str, Any]
    executor: dict[str, Any]
    labels: list[str]
    idempotency_key: str | None
    scheduled_start: datetime
    state: str
    state_message: str | None
    state_timestamp: datetime
    version: int = Field(description="incremented on every state change")
    run_count: int = Field(description="how many times the run was claimed")
    max_retries: int
    agent_id: AgentId | None = Field(None, description="the agent that claimed it last; it "
                                                       "holds the lease while "
                                                       "lease_expires_at is set")
    agent_name: str | None = None
    lease_expires_at: datetime | None
    last_heartbeat: datetime | None
    exit_code: int | None
    created: datetime
    updated: datetime
    agent_match: AgentMatch | None = Field(None, description="only on GET of one run")


class StateWrite(_Model):
    state: str
    message: str | None = None
    lease_id: LeaseId | None = None
    expected_version: int | None = Field(None, description="refuse (409) unless the run is "
                                                           "at this version")

    _state = field_validator("state")(_check_state)


class StateRecord(_Out):
    id: int
    state: str
    message: str | None
    timestamp: datetime
    version: int


class RunHeartbeat(_Model):
    lease_id: LeaseId | None = None


class InfrastructureFailure(_Model):
    """An agent reports that the process or container running a flow run is gone."""

    lease_id: LeaseId | None = None
    exit_code: int | None = None
    message: str = ""


# ------------------------------------------------------------------------- task runs
class TaskRunWrite(_Model):
    task_slug: str = Field(min_length=1, max_length=300)
    map_index: int | None = Field(None, ge=0)
    state: str
    message: str | None = None
    timestamp: datetime | None = Field(None, description="when the state was entered; "
                                                         "older writes never replace newer")

    _state = field_validator("state")(_check_state)


class TaskRunStatesWrite(_Model):
    lease_id: LeaseId | None = None
    task_runs: list[TaskRunWrite]


class TaskRun(_Out):
    task_slug: str
    map_index: int | None
    state: str
    message: str | None
    timestamp: datetime


class WriteCount(_Out):
    count: int


# ------------------------------------------------------------------------------ logs
class LogWrite(_Model):
    timestamp: datetime | None = None
    level: str = "INFO"
    message: str
    task_slug: str | None = None
    map_index: int | None = None

    @field_validator("level", mode="before")
    @classmethod
    def _level_name(cls, value: Any) -> Any:
        if isinstance(value, int):
            return logging.getLevelName(value)
        return value.upper() if isinstance(value, str) else value


class LogRecord(_Out):
    id: int
    flow_run_id: FlowRunId
    timestamp: datetime
    level: str
    message: str
    task_slug: str | None
    map_index: int | None


class LogPage(_Out):
    """Logs after a cursor; pass ``next_after`` as ``after`` to read on."""

    items: list[LogRecord]
    next_after: int


# ---------------------------------------------------------------------------- agents
class AgentCreate(_Model):
    name: str = Field(min_length=1, max_length=200)
    type: str = "local"
    labels: list[str] = Field(default_factory=list)


class Agent(_Out):
    id: AgentId
    name: str
    type: str
    labels: list[str]
    created: datetime
    last_heartbeat: datetime
    online: bool


class Lease(_Out):
    lease_id: LeaseId
    expires_at: datetime


class Claim(_Out):
    """A claimed run, unmasked (the agent needs its secrets), with the lease to write with."""

    flow_run: FlowRun
    flow: Flow
    lease: Lease


class HeartbeatAck(_Out):
    lease_id: LeaseId | None
    expires_at: datetime
    state: str
    version: int


class Health(_Out):
    status: str
    version: str
    database: str
