"""Task run states of a flow run, written in batches by the flow-run process."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field, field_validator

from jupyter_flows.api.base import WireIn, WireOut, check_state
from jupyter_flows.api.bounds import BATCH_MAX, MapIndex, Message, ShortText, Slug, Timestamp
from jupyter_flows.api.ids import LeaseId

#: Task-run states whose checkpointed result a restart keeps: the backend leaves these task
#: runs as they are, and the restarted run's process loads their results instead of
#: running them (both sides must agree, so both read this).
KEPT_ON_RESTART = frozenset({"Success", "Cached"})


class TaskRunWrite(WireIn):
    task_slug: Slug = Field(min_length=1)
    map_index: MapIndex | None = None
    state: ShortText
    message: Message | None = None
    timestamp: Timestamp | None = Field(None, description="when the state was entered; "
                                                         "older writes never replace newer")
    location: str | None = Field(None, max_length=2000,
                                 description="where the task run's result was checkpointed")

    _state = field_validator("state")(check_state)


class TaskRunStatesWrite(WireIn):
    lease_id: LeaseId | None = Field(None, max_length=32)
    task_runs: list[TaskRunWrite] = Field(max_length=BATCH_MAX)


class TaskRun(WireOut):
    task_slug: str
    map_index: int | None
    state: str
    message: str | None
    timestamp: datetime = Field(description="when it entered this state")
    started: datetime | None = Field(None, description="when it first ran; a finished task "
                                                       "run took timestamp - started")
    location: str | None = Field(None, description="where its result was checkpointed, if it "
                                                   "was (get_task_run_result reads it)")


class WriteCount(WireOut):
    count: int
