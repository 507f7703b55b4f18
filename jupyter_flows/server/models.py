"""The backend's tables.

Ids of flows, flow runs and agents are random hex strings (they are safe to show and to
generate anywhere); rows that only make sense under a run (states, task runs, logs) use
integer keys, which also serve as the log cursor.

What happens to a run is numbered: every flow-run state, task-run state and log row carries
``seq``, the run's own gapless sequence (``flow_runs.event_seq`` counts it up inside the
transaction that writes the row, under the run's row lock), so the run's events stream is
those rows in ``seq`` order and a client resumes it with the last ``seq`` it saw.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from jupyter_flows.api import AgentId, FlowId, FlowRunId, LeaseId


def new_id() -> str:
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC (sortable text in SQLite); always read back timezone-aware."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=timezone.utc)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON, datetime: UTCDateTime}


class FlowModel(Base):
    """One version of a registered flow; versions count up per (project, name)."""

    __tablename__ = "flows"
    __table_args__ = (
        UniqueConstraint("project", "name", "version"),
        UniqueConstraint("project", "name", "spec_hash"),
    )

    id: Mapped[FlowId] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), index=True)
    project: Mapped[str] = mapped_column(String(200), index=True)
    version: Mapped[int]
    spec_hash: Mapped[str] = mapped_column(String(64))
    spec: Mapped[dict[str, Any]]
    storage: Mapped[dict[str, Any]]
    run_config: Mapped[dict[str, Any]]
    executor: Mapped[dict[str, Any]]
    labels: Mapped[list[str]]
    max_retries: Mapped[int] = mapped_column(default=0)
    schedule_active: Mapped[bool] = mapped_column(
        default=True, server_default=true(),
        doc="whether the scheduler makes runs of this version's schedule (only the latest "
            "version of a (project, name) is ever scheduled)")
    created: Mapped[datetime] = mapped_column(default=utcnow)
    updated: Mapped[datetime] = mapped_column(default=utcnow)
    archived: Mapped[datetime | None] = mapped_column(
        default=None, doc="when it was archived: hidden from lists, no new runs; its runs "
                          "are kept")


class FlowRunModel(Base):
    """A run of one flow version; ``version`` counts its state changes (optimistic locking).

    The scheduler's runs have ``auto_scheduled`` set and the idempotency key
    ``scheduled:<UTC time>``, so the unique (flow_id, idempotency_key) makes each (flow
    version, scheduled time) one row however many schedulers try to insert it.
    """

    __tablename__ = "flow_runs"
    __table_args__ = (
        UniqueConstraint("flow_id", "idempotency_key"),
        Index("ix_flow_runs_due", "state", "scheduled_start", "created"),
        Index("ix_flow_runs_lease", "state", "lease_expires_at"),
    )

    id: Mapped[FlowRunId] = mapped_column(String(32), primary_key=True, default=new_id)
    flow_id: Mapped[FlowId] = mapped_column(ForeignKey("flows.id"), index=True)
    parameters: Mapped[dict[str, Any]]
    run_config: Mapped[dict[str, Any]]
    executor: Mapped[dict[str, Any]]
    labels: Mapped[list[str]]
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(200), doc="what the user called this run")
    scheduled_start: Mapped[datetime]
    state: Mapped[str] = mapped_column(String(32))
    state_message: Mapped[str | None] = mapped_column(Text)
    state_timestamp: Mapped[datetime]
    version: Mapped[int] = mapped_column(default=1)
    run_count: Mapped[int] = mapped_column(default=0)
    max_retries: Mapped[int] = mapped_column(default=0)
    restarted_after: Mapped[int] = mapped_column(
        default=0, server_default="0",
        doc="run_count when the run was last restarted: the retry rule counts claims since")
    agent_id: Mapped[AgentId | None] = mapped_column(String(32))
    lease_id: Mapped[LeaseId | None] = mapped_column(String(32))
    lease_expires_at: Mapped[datetime | None]
    last_heartbeat: Mapped[datetime | None]
    exit_code: Mapped[int | None]
    infrastructure_message: Mapped[str | None] = mapped_column(Text)
    parent_flow_run_id: Mapped[FlowRunId | None] = mapped_column(
        String(32), index=True, doc="the run whose task created this one (flows of flows)")
    event_seq: Mapped[int] = mapped_column(default=0, server_default="0",
                                           doc="the seq of the run's latest event")
    auto_scheduled: Mapped[bool] = mapped_column(default=False, server_default=false(),
                                                 doc="made by the scheduler")
    created: Mapped[datetime] = mapped_column(default=utcnow)
    updated: Mapped[datetime] = mapped_column(default=utcnow)


class FlowRunLabelModel(Base):
    """One label of a run, so that "run labels ⊆ agent labels" is a plain SQL query."""

    __tablename__ = "flow_run_labels"

    flow_run_id: Mapped[FlowRunId] = mapped_column(ForeignKey("flow_runs.id", ondelete="CASCADE"),
                                             primary_key=True)
    label: Mapped[str] = mapped_column(String(200), primary_key=True)


class FlowRunStateModel(Base):
    """The history of a run's states, one row per change."""

    __tablename__ = "flow_run_states"
    __table_args__ = (Index("ix_flow_run_states_seq", "flow_run_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    flow_run_id: Mapped[FlowRunId] = mapped_column(ForeignKey("flow_runs.id", ondelete="CASCADE"),
                                             index=True)
    seq: Mapped[int] = mapped_column(server_default="0")
    state: Mapped[str] = mapped_column(String(32))
    message: Mapped[str | None] = mapped_column(Text)
    timestamp: Mapped[datetime]
    version: Mapped[int]


class TaskRunModel(Base):
    """The latest state of one task run (``map_index`` -1 for an unmapped task); ``started``
    is when it first ran, so a finished task run's duration is ``timestamp - started``."""

    __tablename__ = "task_runs"
    __table_args__ = (UniqueConstraint("flow_run_id", "task_slug", "map_index"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    flow_run_id: Mapped[FlowRunId] = mapped_column(ForeignKey("flow_runs.id", ondelete="CASCADE"),
                                             index=True)
    task_slug: Mapped[str] = mapped_column(String(300))
    map_index: Mapped[int] = mapped_column(default=-1)
    state: Mapped[str] = mapped_column(String(32))
    message: Mapped[str | None] = mapped_column(Text)
    timestamp: Mapped[datetime]
    started: Mapped[datetime | None]
    result_location: Mapped[str | None] = mapped_column(
        Text, doc="where its checkpointed result was written (get_task_run_result reads it)")


class TaskRunStateModel(Base):
    """The history of task-run states, one row per applied change (the events stream's)."""

    __tablename__ = "task_run_states"
    __table_args__ = (Index("ix_task_run_states_seq", "flow_run_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    flow_run_id: Mapped[FlowRunId] = mapped_column(ForeignKey("flow_runs.id", ondelete="CASCADE"))
    seq: Mapped[int]
    task_slug: Mapped[str] = mapped_column(String(300))
    map_index: Mapped[int] = mapped_column(default=-1)
    state: Mapped[str] = mapped_column(String(32))
    message: Mapped[str | None] = mapped_column(Text)
    timestamp: Mapped[datetime]


class LogModel(Base):
    __tablename__ = "logs"
    __table_args__ = (Index("ix_logs_seq", "flow_run_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    flow_run_id: Mapped[FlowRunId] = mapped_column(ForeignKey("flow_runs.id", ondelete="CASCADE"),
                                             index=True)
    seq: Mapped[int] = mapped_column(server_default="0")
    timestamp: Mapped[datetime]
    level: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text)
    task_slug: Mapped[str | None] = mapped_column(String(300))
    map_index: Mapped[int | None]


class AgentModel(Base):
    """An agent, known by name: registering the same name again updates it."""

    __tablename__ = "agents"

    id: Mapped[AgentId] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    type: Mapped[str] = mapped_column(String(100))
    labels: Mapped[list[str]]
    created: Mapped[datetime] = mapped_column(default=utcnow)
    last_heartbeat: Mapped[datetime] = mapped_column(default=utcnow)


class ConcurrencyLimitModel(Base):
    """A ``kind`` "label" limit: at most ``limit`` flow runs with label ``name`` hold a slot
    (are Submitted, Running or Cancelling) at once. A ``kind`` "tag" limit: at most
    ``limit`` task runs tagged ``name`` hold a slot (a ``task_slots`` row of a run that is
    still Submitted, Running or Cancelling) at once, across all runs.

    Claims and slot requests lock these rows while they count
    (:mod:`jupyter_flows.server.slots`)."""

    __tablename__ = "concurrency_limits"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    limit: Mapped[int]
    created: Mapped[datetime] = mapped_column(default=utcnow)
    updated: Mapped[datetime] = mapped_column(default=utcnow)


class TaskSlotModel(Base):
    """A task run holding a slot of a tag limit. The slot is held while the row exists and
    its flow run holds its lease: a run that ends, or whose lease expires, frees its slots
    with that state change (the rows are deleted then; until then they are not counted)."""

    __tablename__ = "task_slots"

    flow_run_id: Mapped[FlowRunId] = mapped_column(
        ForeignKey("flow_runs.id", ondelete="CASCADE"), primary_key=True)
    task_slug: Mapped[str] = mapped_column(String(300), primary_key=True)
    map_index: Mapped[int] = mapped_column(primary_key=True)
    tag: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)
    acquired: Mapped[datetime] = mapped_column(default=utcnow)
