"""Reporting a flow run to the backend while it runs: task states and logs, in batches.

Both send from one background thread every ``interval`` seconds (and once more at the end),
so the engine's hot path only appends to a list. A backend that is briefly down delays the
reports; they are kept and sent when it answers again.

Logs go separately from task states (a refused state write, e.g. after the lease was lost,
does not hold them back), in batches the backend accepts. Text that cannot be encoded (a
non-UTF-8 filename decoded with ``surrogateescape``) is escaped here, and if the backend
still refuses a batch, its records are sent one by one so that only a record the backend
refuses is replaced, by a line saying why, and never the rest of the batch.
"""

from __future__ import annotations

import logging
import threading
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from jupyter_flows.api.bounds import BATCH_MAX, escape_text
from jupyter_flows.engine.observers import RunObserver
from jupyter_flows.errors import BackendError

if TYPE_CHECKING:
    from jupyter_flows.client.client import Client
    from jupyter_flows.core.flow import Flow
    from jupyter_flows.core.task import Task
    from jupyter_flows.engine.states import State

_log = logging.getLogger("jupyter_flows.flow_run.reporting")


def _records_refused(exc: BackendError) -> bool:
    """Whether the backend refused what was sent (not who sent it, nor when)."""
    return exc.status in (413, 422)


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
                "state": state.name, "message": state.message, "location": state.location,
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
        slug = getattr(record, "task_slug", None)
        item = {"timestamp": datetime.fromtimestamp(record.created, tz=timezone.utc),
                "level": record.levelname, "message": escape_text(message),
                "task_slug": escape_text(slug) if isinstance(slug, str) else slug,
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
        # logs first and on their own: they need no lease, so a refused state write must
        # not hold them back (issue 11)
        sent = 0
        try:
            while sent < len(logs):
                batch = logs[sent:sent + BATCH_MAX]
                self._send_logs(batch)
                sent += len(batch)
        except Exception as exc:  # keep the rest for the next try, in order
            _log.debug("could not send logs to the backend yet: %s", exc)
            with self._lock:
                self._logs[:0] = logs[sent:]
        try:
            if states:
                self.client.set_task_run_states(self.flow_run_id, states,
                                                lease_id=self.lease_id)
        except Exception as exc:  # keep them for the next try
            _log.debug("could not report task states to the backend yet: %s", exc)
            with self._lock:
                for item in states:
                    self._states.setdefault((item["task_slug"], item["map_index"]), item)

    def _send_logs(self, batch: list[dict[str, Any]]) -> None:
        try:
            self.client.write_logs(self.flow_run_id, batch)
            return
        except BackendError as exc:
            if not _records_refused(exc):
                raise  # the backend, not the records: try again later
        except ValueError:  # a record the client's own model refused
            pass
        for item in batch:  # find the refused record(s), keep the others
            try:
                self.client.write_logs(self.flow_run_id, [item])
            except BackendError as exc:
                if not _records_refused(exc):
                    raise
                self._refused(item, exc)
            except ValueError as exc:
                self._refused(item, exc)

    def _refused(self, item: dict[str, Any], exc: Exception) -> None:
        note = {"timestamp": item.get("timestamp"), "level": "WARNING",
                "message": f"a log record was refused and left out: "
                           f"{escape_text(str(exc))[:2000]}"}
        self.client.write_logs(self.flow_run_id, [note])

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.flush()
        logging.Handler.close(self)
