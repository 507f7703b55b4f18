"""Task loggers and ``log_stdout``: prints inside a task become log records of that task.

``sys.stdout`` is replaced once by a router that sends a write to the logger of the task
running in the writing thread (found through a ContextVar), and to the real stream otherwise,
so tasks on a thread pool capture only their own prints.
"""

from __future__ import annotations

import io
import logging
import sys
from contextvars import ContextVar
from typing import Any

TASK_LOGGER = "jupyter_flows.task"
_capturing: ContextVar[_LineLogger | None] = ContextVar("jupyter_flows_stdout", default=None)


class TaskLoggerAdapter(logging.LoggerAdapter):  # type: ignore[type-arg,unused-ignore]
    """Adds the task's name, slug, map index and run id to every record."""

    def process(self, msg: Any, kwargs: Any) -> tuple[Any, Any]:
        kwargs.setdefault("extra", {}).update(self.extra or {})
        return msg, kwargs


def task_logger(flow_name: str, task_slug: str, task_name: str, map_index: int | None,
                flow_run_id: str) -> TaskLoggerAdapter:
    label = task_name if map_index is None else f"{task_name}[{map_index}]"
    return TaskLoggerAdapter(logging.getLogger(TASK_LOGGER), {
        "flow_name": flow_name, "task_slug": task_slug, "task_name": task_name,
        "map_index": map_index, "flow_run_id": flow_run_id, "task_label": label,
    })


class _LineLogger(io.TextIOBase):
    """A text stream that logs each complete line at INFO."""

    def __init__(self, logger: logging.LoggerAdapter[Any] | logging.Logger) -> None:
        self.logger = logger
        self._buffer = ""

    def write(self, text: str) -> int:
        self._buffer += text
        *lines, self._buffer = self._buffer.split("\n")
        for line in lines:
            self.logger.info(line)
        return len(text)

    def flush(self) -> None:
        if self._buffer:
            self.logger.info(self._buffer)
            self._buffer = ""


class _StdoutRouter(io.TextIOBase):
    def __init__(self, original: Any) -> None:
        self.original = original

    def write(self, text: str) -> int:
        target = _capturing.get()
        return (target or self.original).write(text)

    def flush(self) -> None:
        target = _capturing.get()
        (target or self.original).flush()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.original, name)


def start_capture(logger: logging.LoggerAdapter[Any] | logging.Logger) -> object:
    """Route this context's prints to ``logger`` until ``stop_capture``."""
    if not isinstance(sys.stdout, _StdoutRouter):
        sys.stdout = _StdoutRouter(sys.stdout)
    return _capturing.set(_LineLogger(logger))


def stop_capture(token: object) -> None:
    stream = _capturing.get()
    if stream is not None:
        stream.flush()
    _capturing.reset(token)  # type: ignore[arg-type]


_DEFAULT_FORMAT = "[%(asctime)s] %(levelname)s - %(name)s | %(message)s"


class _TaskFormatter(logging.Formatter):
    """Prefixes a task's records with ``Task 'name[i]':`` in this handler's output only; the
    record itself stays as logged, for the other handlers (the backend reporter)."""

    def format(self, record: logging.LogRecord) -> str:
        label = getattr(record, "task_label", None)
        if not label:
            return super().format(record)
        original = record.msg, record.args
        record.msg, record.args = f"Task {label!r}: {record.getMessage()}", None
        try:
            return super().format(record)
        finally:
            record.msg, record.args = original


def ensure_default_handler() -> None:
    """Show INFO logs of flows on stderr unless the application configured logging itself."""
    logger = logging.getLogger("jupyter_flows")
    if logger.handlers or logging.getLogger().handlers:
        return
    handler = logging.StreamHandler()
    handler.setFormatter(_TaskFormatter(_DEFAULT_FORMAT))
    logger.addHandler(handler)
    if logger.level == logging.NOTSET:  # a level the user chose stays
        logger.setLevel(logging.INFO)


# ------------------------------------------------------------ records from other processes
_forward_to: ContextVar[Any] = ContextVar("jupyter_flows_forward_logs", default=None)
_EXTRAS = ("flow_name", "flow_run_id", "task_slug", "task_name", "map_index", "task_label")


def record_to_dict(record: logging.LogRecord) -> dict[str, Any]:
    """What of a record crosses a process boundary: plain data only."""
    data: dict[str, Any] = {
        "name": record.name, "levelno": record.levelno, "levelname": record.levelname,
        "msg": record.getMessage(), "created": record.created,
    }
    if record.exc_info and not record.exc_text:
        record.exc_text = logging.Formatter().formatException(record.exc_info)
    if record.exc_text:
        data["exc_text"] = record.exc_text
    for key in _EXTRAS:
        if hasattr(record, key):
            data[key] = getattr(record, key)
    return data


def reemit(data: dict[str, Any]) -> None:
    """Hand a record that was logged in another process to this process's handlers."""
    record = logging.makeLogRecord({**data, "args": None, "forwarded": True})
    logging.getLogger(data["name"]).handle(record)


class _Forwarder(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        target = _forward_to.get()
        if target is not None and not getattr(record, "forwarded", False):
            target(record_to_dict(record))


def start_forwarding(target: Any) -> object:
    """Send this context's task log records to ``target`` (a callable taking a dict)."""
    logger = logging.getLogger(TASK_LOGGER)
    if not any(isinstance(h, _Forwarder) for h in logger.handlers):
        logger.addHandler(_Forwarder())
    if logger.getEffectiveLevel() > logging.INFO:
        # a worker process has no logging set up: INFO records would be dropped before
        # reaching the forwarder; the driver's handlers decide what is shown
        logger.setLevel(logging.INFO)
    return _forward_to.set(target)


def stop_forwarding(token: object) -> None:
    _forward_to.reset(token)  # type: ignore[arg-type]
