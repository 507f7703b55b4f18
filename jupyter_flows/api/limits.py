"""Concurrency limits: at most ``limit`` runs with a label hold a slot at once."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from jupyter_flows.api.base import WireIn, WireOut
from jupyter_flows.api.bounds import INT32_MAX

#: What a limit counts runs by; only labels for now.
LimitKind = Literal["label"]
#: A limit's number of slots (an ``INTEGER`` column); 0 holds every run with the label back.
SlotCount = Annotated[int, Field(ge=0, le=INT32_MAX)]


class LimitSet(WireIn):
    limit: SlotCount = Field(description="runs with this label that may hold a slot "
                                         "(Submitted, Running or Cancelling) at once")


class ConcurrencyLimit(WireOut):
    kind: LimitKind
    name: str
    limit: int
    in_use: int = Field(description="runs with this label holding a slot now (may exceed "
                                    "limit after it was lowered; none is stopped)")
    created: datetime
    updated: datetime
