"""Events: what happens to a run, in order, and what changes in the lists of flows, runs and
agents.

A run's events (``GET /api/flow_runs/{id}/events``) are its flow-run states, task-run states
and log records, numbered by ``seq`` without gaps; as Server-Sent Events each has ``id:
<seq>`` and ``event: <kind>``, and a client resumes with ``Last-Event-ID`` or ``?after=``.
When the run has finished and every event was sent, an ``end`` event closes the stream.

The list feed (``GET /api/events``) sends one :class:`ChangeEvent` per changed flow, run or
agent, with the object as it is now (``None`` when it was deleted). Its ids (``instance:n``)
only mean something to the server process that sent them: a client that reconnects to
another one (or after a restart) gets a ``reset`` event and reloads its lists.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from jupyter_flows.api.agents import Agent
from jupyter_flows.api.base import WireOut
from jupyter_flows.api.flow_runs import FlowRun
from jupyter_flows.api.flows import Flow
from jupyter_flows.api.ids import FlowRunId


class FlowRunStateEvent(WireOut):
    kind: Literal["flow_run_state"] = "flow_run_state"
    seq: int
    flow_run_id: FlowRunId
    state: str
    message: str | None
    timestamp: datetime
    version: int


class TaskRunStateEvent(WireOut):
    kind: Literal["task_run_state"] = "task_run_state"
    seq: int
    flow_run_id: FlowRunId
    task_slug: str
    map_index: int | None
    state: str
    message: str | None
    timestamp: datetime


class LogEvent(WireOut):
    kind: Literal["log"] = "log"
    seq: int
    flow_run_id: FlowRunId
    id: int = Field(description="the log record's id (the cursor of GET .../logs)")
    timestamp: datetime
    level: str
    message: str
    task_slug: str | None
    map_index: int | None


RunEvent = Annotated[FlowRunStateEvent | TaskRunStateEvent | LogEvent,
                     Field(discriminator="kind")]


class RunEventPage(WireOut):
    """Events after a cursor; pass ``next_after`` as ``after`` to read on."""

    items: list[RunEvent]
    next_after: int
    state: str = Field(description="the run's state now")
    finished: bool = Field(description="the run is finished and no event is left to read")


class ChangeEvent(WireOut):
    kind: Literal["flow", "flow_run", "agent"]
    id: str
    flow: Flow | None = None
    flow_run: FlowRun | None = None
    agent: Agent | None = None
