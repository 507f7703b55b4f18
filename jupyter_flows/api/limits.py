"""Concurrency limits: at most ``limit`` flow runs with a label, or task runs with a tag,
hold a slot at once across the whole backend."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from jupyter_flows.api.base import WireIn, WireOut
from jupyter_flows.api.bounds import INT32_MAX, LIST_MAX, MapIndex, Name, Slug
from jupyter_flows.api.ids import LeaseId

#: What a limit counts: flow runs by label, or task runs by tag.
LimitKind = Literal["label", "tag"]
#: A limit's number of slots (an ``INTEGER`` column); 0 holds everything it counts back.
SlotCount = Annotated[int, Field(ge=0, le=INT32_MAX)]


class LimitSet(WireIn):
    limit: SlotCount = Field(description="flow runs with this label (Submitted, Running or "
                                         "Cancelling), or task runs with this tag (Running), "
                                         "that may hold a slot at once")


class ConcurrencyLimit(WireOut):
    kind: LimitKind
    name: str
    limit: int
    in_use: int = Field(description="slots held now (may exceed limit after it was lowered; "
                                    "nothing is stopped)")
    created: datetime
    updated: datetime


class TaskSlotRequest(WireIn):
    """A task run of a leased flow run asks for one slot of each limited tag it has."""

    lease_id: LeaseId = Field(max_length=32)
    task_slug: Slug = Field(min_length=1)
    map_index: MapIndex | None = None
    tags: list[Name] = Field(max_length=LIST_MAX)


class TaskSlotGrant(WireOut):
    granted: bool = Field(description="the task run holds a slot of each limited tag now; "
                                      "when False it holds none and should ask again")
    message: str | None = Field(None, description="why not: which tag is at its limit")
