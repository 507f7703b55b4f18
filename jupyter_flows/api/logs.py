"""Log records of a flow run."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from pydantic import field_validator

from jupyter_flows.api.base import WireIn, WireOut
from jupyter_flows.api.ids import FlowRunId


class LogWrite(WireIn):
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
