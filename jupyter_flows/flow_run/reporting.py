"""Reporting a flow run to the backend while it runs: task states and logs, in batches.

Both send from one background thread every ``interval`` seconds (and once more at the end),
so the engine's hot path only appends to a list. A backend that is briefly down delays the
reports; they are kept and sent when it answers again.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from jupyter_flows.engine.observers import RunObserver

if TYPE_CHECKING:
    from jupyter_flows.client.client import Client
    from jupyter_flows.core.flow import Flow
    from jupyter_flows.core.task import Task
    from jupyter_flows.engine.states import State

_log = logging.getLogger("jupyter_flows.flow_run.reporting")


class BackendReporter(RunObserver, logging.Handler):
    """Sends task state changes and log records of one flow run to the backend."""

    def __init__(self, client: Client, flow_run_id: str, lease_id: str | None,
                 interval: float = 0.25, max_pending: int = 100_000) -> None:
        RunObserver.__init__(self)
        logging.Handler.__init__(self, level=logging.INFO)
        self.client = client
        self.flow_run_id = flow_run_id
        self.lease_id = lease_id
        self.interval = interval
        self.max_pending = max_pending
        self._states: dict[tuple[str, int | None], dict[str, Any]] = {}
        self._logs: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="jupyter-flows-reporter",
                                        daemon=True)
        self._thread.start()

    # ------------------------------------------------------------- collecting
    def task_state_changed(self, task: Task, map_index: int | None, state: State) -> None:
        slug = task.slug or task.name
        item = {"task_slug": slug, "map_index": map_index,
                "state": state.name, "message": state.message,
                "timestamp": datetime.fromtimestamp(state.timestamp, tz=timezone.utc)}
        with self._lock:  # only the latest state of each task run needs sending
            self._states[(slug, map_index)] = item

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("jupyter_flows.flow_run.reporting"):
            return
        try:
            message = self.format(record) if self.formatter else record.getMessage()
        except Exception:
            message = str(record.msg)
        item = {"timestamp": datetime.fromtimestamp(record.created, tz=timezone.utc),
                "level": record.levelname, "message": message,
                "task_slug": getattr(record, "task_slug", None),
                "map_index": getattr(record, "map_index", None)}
        with self._lock:
            if len(self._logs) < self.max_pending:
                self._logs.append(item)

    def run_finished(self, flow: Flow, state: State) -> None:
        self.flush()

    # ---------------------------------------------------------------- sending
    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.flush()

    def flush(self) -> None:
        with self._lock:
            states, self._states = list(self._states.values()), {}
            logs, self._logs = self._logs, []
        # logs need no lease: a refused state write must not hold them back (issue 11)
        try:
            if logs:
                self.client.write_logs(self.flow_run_id, logs)
        except Exception as exc:  # keep them for the next try, in order
            _log.debug("could not send logs to the backend yet: %s", exc)
            with self._lock:
                self._logs[:0] = logs
        try:
            if states:
                self.client.set_task_run_states(self.flow_run_id, states,
                                                lease_id=self.lease_id)
        except Exception as exc:  # keep them for the next try
            _log.debug("could not report task states to the backend yet: %s", exc)
            with self._lock:
                for item in states:
                    self._states.setdefault((item["task_slug"], item["map_index"]), item)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.flush()
        logging.Handler.close(self)
