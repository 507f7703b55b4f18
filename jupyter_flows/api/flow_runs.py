"""Flow runs: creating them, their states, heartbeats and infrastructure failures."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field, field_validator, model_validator

from jupyter_flows.api._checks import check_executor, check_run_config
from jupyter_flows.api.base import WireIn, WireOut, check_state
from jupyter_flows.api.bounds import (
    RUN_BATCH_MAX,
    ExitCode,
    JsonObject,
    Labels,
    Message,
    Name,
    Retries,
    ShortText,
    Slug,
    Timestamp,
    Version,
)
from jupyter_flows.api.ids import AgentId, FlowId, FlowRunId, LeaseId


class FlowRunCreate(WireIn):
    """Name the flow by ``flow_id``, or by ``flow_name`` (+ ``project``, ``flow_version``;
    the newest version when omitted). Overrides left out come from the flow."""

    flow_id: FlowId | None = Field(None, max_length=32)
    flow_name: Name | None = None
    project: Name | None = None
    flow_version: Version | None = None
    parameters: JsonObject = Field(default_factory=dict)
    run_config: JsonObject | None = None
    executor: JsonObject | None = None
    labels: Labels | None = None
    idempotency_key: Name | None = None
    name: Name | None = Field(None, description="a name for this run, shown beside its id")
    scheduled_start: Timestamp | None = None
    max_retries: Retries | None = None
    parent_flow_run_id: FlowRunId | None = Field(
        None, max_length=32, description="the run whose task creates this one (flows of flows)")

    _run_config_ok = field_validator("run_config")(check_run_config)
    _executor_ok = field_validator("executor")(check_executor)

    @model_validator(mode="after")
    def _one_flow_reference(self) -> FlowRunCreate:
        if (self.flow_id is None) == (self.flow_name is None):
            raise ValueError("give exactly one of flow_id and flow_name")
        if self.flow_id is not None and (self.flow_version is not None or self.project):
            raise ValueError("flow_version and project go with flow_name, not flow_id")
        return self


class FlowRunBatch(WireIn):
    """Many runs to create at once (``POST /api/flow_runs/batch``)."""

    runs: list[FlowRunCreate] = Field(min_length=1, max_length=RUN_BATCH_MAX)


class AgentMatch(WireOut):
    """Whether an online agent can run this flow run, and if not, why not."""

    matched: bool
    agent_ids: list[AgentId]
    explanation: str


class FlowRun(WireOut):
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
    parent_flow_run_id: FlowRunId | None = Field(
        None, description="the run whose task created this one; its children are listed "
                          "by GET /api/flow_runs?parent=ID")
    created: datetime
    updated: datetime
    auto_scheduled: bool = Field(False, description="made by the backend's scheduler from "
                                                    "the flow's schedule")
    agent_match: AgentMatch | None = Field(None, description="only on GET of one run")
    waiting_for: str | None = Field(
        None, description="only on GET of one run: why a due run is not claimed although "
                          "it could be (a concurrency limit of one of its labels is full)")
    name: str | None = Field(None, description="the name given when the run was created")


class StateWrite(WireIn):
    state: ShortText
    message: Message | None = None
    lease_id: LeaseId | None = Field(None, max_length=32)
    expected_version: Version | None = Field(None, description="refuse (409) unless the run is "
                                                           "at this version")

    _state = field_validator("state")(check_state)


class CancelRequest(WireIn):
    """``POST /flow_runs/{id}/cancel``: why (shown as the run's state message)."""

    message: str | None = Field(None, max_length=2000)


class RestartRequest(WireIn):
    """``POST /flow_runs/{id}/restart``: ``from_task`` runs that task and everything
    downstream of it again, even where their results were kept."""

    from_task: Slug | None = Field(None, min_length=1)


class StateRecord(WireOut):
    id: int
    state: str
    message: str | None
    timestamp: datetime
    version: int


class RunHeartbeat(WireIn):
    lease_id: LeaseId | None = Field(None, max_length=32)


class InfrastructureFailure(WireIn):
    """An agent reports that the process or container running a flow run is gone."""

    lease_id: LeaseId | None = Field(None, max_length=32)
    exit_code: ExitCode | None = None
    message: Message = ""


class FlowRunBatchResult(WireOut):
    runs: list[FlowRun] = Field(description="one per run asked for, in order")
    created: int = Field(description="how many are new (the rest existed for their "
                                     "idempotency keys)")
