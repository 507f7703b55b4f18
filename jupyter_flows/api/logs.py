"""Log records of a flow run.

A log record is kept rather than refused where it can be: text that cannot be stored is
escaped (:func:`~jupyter_flows.api.bounds.escape_text`), a message longer than
:data:`~jupyter_flows.api.bounds.LOG_MESSAGE_MAX` is cut (saying how much was cut), and a
timestamp UTC cannot hold is moved to the nearest one it can. One odd line must never
cost a run the rest of its logs.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, ClassVar

from pydantic import Field, field_validator

from jupyter_flows.api.base import WireIn, WireOut
from jupyter_flows.api.bounds import (
    LEVEL_MAX,
    LOG_MESSAGE_MAX,
    SLUG_MAX,
    MapIndex,
    clamp_timestamp,
    escape_text,
)
from jupyter_flows.api.ids import FlowRunId


class LogWrite(WireIn):
    timestamp: datetime | None = None
    level: str = Field("INFO", max_length=LEVEL_MAX)
    message: str
    task_slug: str | None = Field(None, max_length=SLUG_MAX)
    map_index: MapIndex | None = None

    refuse_unstorable_text: ClassVar[bool] = False  # escaped below instead

    @field_validator("level", mode="before")
    @classmethod
    def _level_name(cls, value: Any) -> Any:
        if isinstance(value, int):
            return logging.getLevelName(value)[:LEVEL_MAX]
        return escape_text(value.upper())[:LEVEL_MAX] if isinstance(value, str) else value

    @field_validator("message", mode="after")
    @classmethod
    def _message(cls, value: str) -> str:
        value = escape_text(value)
        if len(value) > LOG_MESSAGE_MAX:
            cut = len(value) - LOG_MESSAGE_MAX
            value = value[:LOG_MESSAGE_MAX] + f"... [{cut} more characters cut]"
        return value

    @field_validator("task_slug", mode="before")
    @classmethod
    def _slug(cls, value: Any) -> Any:
        return escape_text(value)[:SLUG_MAX] if isinstance(value, str) else value

    @field_validator("timestamp", mode="after")
    @classmethod
    def _timestamp(cls, value: datetime | None) -> datetime | None:
        return None if value is None else clamp_timestamp(value)


class LogRecord(WireOut):
    id: int
    flow_run_id: FlowRunId
    timestamp: datetime
    level: str
    message: str
    task_slug: str | None
    map_index: int | None


class LogPage(WireOut):
    """Logs after a cursor; pass ``next_after`` as ``after`` to read on."""

    items: list[LogRecord]
    next_after: int
