"""Logs in the notebook: what tasks log, without the lines the run summary already says.

``%flow run`` prints each task's state and the traceback of a failed cell, so the engine's
"flow run started/finished" lines and the task runner's failure records (which repeat that
traceback) are left out; everything a task logs itself (``get_logger().info(...)``), retries
and warnings stay. Installed by ``%load_ext`` unless logging is already configured.
"""

from __future__ import annotations

import logging
import sys

_PACKAGE = "jupyter_flows"
_SUMMARISED = ("jupyter_flows.flow_runner",)
# the task runner logs a failed run as logger.error("%s%s", message, "\n" + traceback)
_FAILURE_FORMAT = "%s%s"


class NotebookLogHandler(logging.Handler):
    """Writes to the current ``sys.stderr`` (the kernel replaces it per cell)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith(_SUMMARISED):
            return False
        return not (record.levelno >= logging.ERROR and record.msg == _FAILURE_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        label = getattr(record, "task_label", None)
        where = f"task {label!r}" if label else record.name
        text = f"{record.levelname} {where}: {record.getMessage()}"
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        return text

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
        except Exception:
            self.handleError(record)


def install_notebook_logging() -> None:
    """Send the package's logs to the notebook, unless the user configured logging."""
    logger = logging.getLogger(_PACKAGE)
    if logger.handlers or logging.getLogger().handlers:
        return
    logger.addHandler(NotebookLogHandler())
    logger.setLevel(logging.INFO)
