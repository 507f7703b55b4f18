"""The wire contract: every payload that crosses between the backend and its clients.

The server, the client, the agents, the notebook and (through the generated TypeScript
types) the JupyterLab extension all use these models. This package imports only pydantic and
the engine's state names, so a client needs neither FastAPI nor SQLAlchemy.
"""

from __future__ import annotations

from jupyter_flows.api.agents import Agent, AgentCreate, Claim, Health, HeartbeatAck, Lease
from jupyter_flows.api.base import STATE_NAMES, Page, WireIn, WireOut
from jupyter_flows.api.events import (
    ChangeEvent,
    FlowRunStateEvent,
    LogEvent,
    RunEvent,
    RunEventPage,
    TaskRunStateEvent,
)
from jupyter_flows.api.flow_runs import (
    AgentMatch,
    CancelRequest,
    FlowRun,
    FlowRunBatch,
    FlowRunBatchResult,
    FlowRunCreate,
    InfrastructureFailure,
    RestartRequest,
    RunHeartbeat,
    StateRecord,
    StateWrite,
)
from jupyter_flows.api.flow_spec import (
    EdgeSpec,
    FlowSpec,
    ParameterSpec,
    TaskSpec,
    flow_from_spec,
    flow_spec,
    spec_hash,
)
from jupyter_flows.api.flows import (
    Flow,
    FlowCreate,
    FlowRegistration,
    FlowRemoval,
    FlowSchedule,
    ScheduleUpdate,
)
from jupyter_flows.api.ids import AgentId, FlowId, FlowRunId, LeaseId
from jupyter_flows.api.limits import (
    ConcurrencyLimit,
    LimitKind,
    LimitSet,
    TaskSlotGrant,
    TaskSlotRequest,
)
from jupyter_flows.api.logs import LogPage, LogRecord, LogWrite
from jupyter_flows.api.task_runs import TaskRun, TaskRunStatesWrite, TaskRunWrite, WriteCount

__all__ = [
    "STATE_NAMES",
    "Agent",
    "AgentCreate",
    "AgentId",
    "AgentMatch",
    "CancelRequest",
    "ChangeEvent",
    "Claim",
    "ConcurrencyLimit",
    "EdgeSpec",
    "Flow",
    "FlowCreate",
    "FlowId",
    "FlowRegistration",
    "FlowRemoval",
    "FlowRun",
    "FlowRunBatch", "FlowRunBatchResult", "FlowRunCreate",
    "FlowRunId",
    "FlowRunStateEvent",
    "FlowSchedule",
    "FlowSpec",
    "Health",
    "HeartbeatAck",
    "InfrastructureFailure",
    "Lease",
    "LeaseId",
    "LimitKind",
    "LimitSet",
    "LogEvent",
    "LogPage",
    "LogRecord",
    "LogWrite",
    "Page",
    "ParameterSpec",
    "RestartRequest",
    "RunEvent",
    "RunEventPage",
    "RunHeartbeat",
    "ScheduleUpdate",
    "StateRecord",
    "StateWrite",
    "TaskRun",
    "TaskRunStateEvent",
    "TaskRunStatesWrite",
    "TaskRunWrite",
    "TaskSlotGrant",
    "TaskSlotRequest",
    "TaskSpec",
    "WireIn",
    "WireOut",
    "WriteCount",
    "flow_from_spec",
    "flow_spec",
    "spec_hash",
]
