"""Registering flows and reading them back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field, field_validator

from jupyter_flows.api._checks import check_executor, check_run_config
from jupyter_flows.api.base import WireIn, WireOut
from jupyter_flows.api.bounds import JsonObject, Labels, Name, Retries
from jupyter_flows.api.flow_spec import FlowSpec
from jupyter_flows.api.ids import FlowId
from jupyter_flows.schedules import Schedule


class FlowCreate(WireIn):
    """A flow version to register; bounds in :mod:`jupyter_flows.api.bounds`."""

    name: Name
    project: Name = "default"
    spec: FlowSpec
    storage: JsonObject = Field(default_factory=dict)
    run_config: JsonObject = Field(default_factory=dict)
    executor: JsonObject = Field(default_factory=dict)
    labels: Labels = Field(default_factory=list)
    max_retries: Retries = 0
    set_schedule_active: bool = Field(True, description="whether the backend makes runs "
                                      "from the spec's schedule (if it has one)")

    _run_config_ok = field_validator("run_config")(check_run_config)
    _executor_ok = field_validator("executor")(check_executor)


class Flow(WireOut):
    id: FlowId
    name: str
    project: str
    version: int
    spec_hash: str
    spec: FlowSpec
    storage: dict[str, Any]
    run_config: dict[str, Any]
    executor: dict[str, Any]
    labels: list[str]
    max_retries: int
    schedule_active: bool = Field(True, description="whether the backend makes runs from "
                                  "this version's schedule; only the latest version of a "
                                  "(project, name) is scheduled")
    created: datetime
    updated: datetime
    archived: datetime | None = Field(None, description="when it was archived (hidden from "
                                                        "lists unless asked for; no new runs)")


class FlowRemoval(WireOut):
    """What ``DELETE /api/flows/{id}`` did: archived the flow (its runs kept), or deleted it
    with its runs."""

    id: FlowId
    archived: datetime | None
    deleted: bool
    runs_deleted: int


class FlowSchedule(WireOut):
    """A flow's schedule as the backend runs it: always the latest version's."""

    flow_id: FlowId = Field(description="the latest version's id")
    name: str
    project: str
    version: int
    schedule: Schedule | None
    active: bool
    description: str | None = Field(None, description="the schedule in words")
    next_times: list[datetime] = Field(default_factory=list,
                                       description="the schedule's next times (UTC), "
                                                   "whether active or not")
    upcoming_runs: int = Field(0, description="runs the scheduler made that are still to "
                                              "start")


class ScheduleUpdate(WireIn):
    active: bool = Field(description="false pauses the schedule (its unclaimed runs are "
                                     "deleted), true resumes it")


class FlowRegistration(Flow):
    """A registered flow version; ``is_new`` is false when the spec was already known."""

    is_new: bool
