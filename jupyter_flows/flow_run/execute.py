"""``jupyter-flows execute flow-run ID``: what an agent launches to run one flow run.

It loads the flow from its storage, runs it with the run's executor while heartbeating the
run's lease and reporting task states and logs, and sets the run's final state. A flow that
cannot be loaded (missing file, module not installed here) ends the run Failed with a
message naming the cause. Every task's result is checkpointed and a restarted run keeps
the results of its earlier attempt (see :mod:`jupyter_flows.flow_run.restart`). A cancel
(the run goes ``Cancelling``) reaches it through the run's events stream, or the
heartbeat's answer, and stops the engine as Ctrl-C does (see
:mod:`jupyter_flows.flow_run.cancel`); the run then ends ``Cancelled``. Exit code: 0 on
Success, 1 on any other final state, 2 when the run could not be started at all, 3
(``EXIT_NOT_STARTED``) when it was not started because the backend stayed unreachable or
the claim was taken back (nothing of it ran; see :mod:`jupyter_flows.flow_run.startup`).

Every call to the backend waits out an outage for ``JUPYTER_FLOWS_BACKEND_PATIENCE``
seconds (:mod:`jupyter_flows.client.patience`) before anything gives up on the run.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from jupyter_flows.errors import BackendUnavailable, ConflictError, JupyterFlowsError

if TYPE_CHECKING:
    from jupyter_flows.client.client import Client
    from jupyter_flows.engine.states import State

_log = logging.getLogger("jupyter_flows.flow_run.execute")
LEASE_ENV = "JUPYTER_FLOWS_LEASE_ID"
HEARTBEAT_ENV = "JUPYTER_FLOWS_HEARTBEAT_INTERVAL"


class Heartbeat:
    """Renews a run's lease from a background thread until stopped.

    ``lost`` is set when the backend says the lease is gone (the run was taken away);
    ``on_cancelling`` is called when the answer says the run is ``Cancelling``.
    """

    def __init__(self, client: Client, flow_run_id: str, lease_id: str | None,
                 interval: float, on_cancelling: Callable[[str], None] | None = None) -> None:
        self.client = client
        self.on_cancelling = on_cancelling
        self.flow_run_id = flow_run_id
        self.lease_id = lease_id
        self.interval = interval
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="jupyter-flows-heartbeat",
                                        daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                ack = self.client.run_heartbeat(self.flow_run_id, self.lease_id)
                if ack.state == "Cancelling" and self.on_cancelling is not None:
                    self.on_cancelling("heartbeat")
            except ConflictError as exc:
                _log.error("flow run %s: lease lost (%s)", self.flow_run_id, exc)
                self.lost.set()
                return
            except (BackendUnavailable, JupyterFlowsError) as exc:
                _log.warning("flow run %s: heartbeat failed: %s", self.flow_run_id, exc)


def _final_state(client: Client, flow_run_id: str, state: str, message: str | None,
                 lease_id: str | None, patience: float = 120.0) -> None:
    """Report the final state, waiting out a backend restart: losing it would leave the
    run to be marked Crashed although it finished."""
    from jupyter_flows.client.patience import call_patiently

    call_patiently(lambda: client.set_flow_run_state(flow_run_id, state, message,
                                                     lease_id=lease_id),
                   patience=patience, what=f"the final state of flow run {flow_run_id}")


def _cancelled_state(state: State, how: str | None) -> State:
    """The final state of a run whose cancel was seen: its message says so (the engine's
    says Ctrl-C); a run that finished anyway before the interrupt keeps its state."""
    if not state.is_cancelled():
        return state
    results = state.result if isinstance(state.result, dict) else {}
    count = sum(1 for s in results.values() if s.is_cancelled())
    duration = (state.context or {}).get("duration")
    after = f" after {duration:.1f} s" if isinstance(duration, float) else ""
    state.message = (f"cancelled on request (seen through the {how}){after}; {count} task "
                     f"run(s) cancelled")
    return state


def execute_flow_run_main(flow_run_id: str) -> int:
    """The process's exit code for ``execute flow-run ID``; a run that cannot be started at
    all is one ``error:`` line on stderr and exit 2."""
    try:
        return execute_flow_run(flow_run_id)
    except JupyterFlowsError as exc:
        print(f"error: flow run {flow_run_id}: {exc}", file=sys.stderr)
        return 2
    finally:
        # the run is over: the interpreter's shutdown would collect every object of the
        # engine, client and Dask modules once more, a quarter second of CPU per run here
        # (benchmarks/RESULTS.md); frozen objects are skipped, and atexit handlers and
        # thread joins still run as usual
        gc.freeze()


def execute_flow_run(flow_run_id: str, client: Client | None = None,
                     lease_id: str | None = None) -> int:
    """Run the backend's flow run ``flow_run_id`` here; returns the process exit code."""
    from jupyter_flows.client.client import Client
    from jupyter_flows.client.patience import backend_patience
    from jupyter_flows.deploy.register import load_registered_flow
    from jupyter_flows.engine.flow_runner import run_flow
    from jupyter_flows.executors.base import executor_from_config
    from jupyter_flows.flow_run.cancel import CancelWatch
    from jupyter_flows.flow_run.reporting import BackendReporter
    from jupyter_flows.flow_run.restart import checkpoint_by_default, kept_task_states
    from jupyter_flows.flow_run.startup import EXIT_NOT_STARTED, NotStarted, start_run
    from jupyter_flows.flow_run.task_slots import BackendTaskSlots

    patience = backend_patience()
    client = client or Client(patience=patience)
    lease_id = lease_id or os.environ.get(LEASE_ENV)
    interval = float(os.environ.get(HEARTBEAT_ENV, "5"))
    try:
        started = start_run(client, flow_run_id, lease_id, patience)
    except NotStarted as exc:
        _log.error("%s", exc)
        return EXIT_NOT_STARTED if exc.__cause__ is not None else 2
    run, flow_record = started.run, started.flow
    if run.state == "Cancelling":
        _log.warning("flow run %s was cancelled before it started", flow_run_id)
        client.set_flow_run_state(flow_run_id, "Cancelled", "cancelled before it started",
                                  lease_id=lease_id)
        return 1
    from jupyter_flows.engine.logs import ensure_default_handler

    ensure_default_handler()
    reporter = BackendReporter(client, flow_run_id, lease_id)
    package_logger = logging.getLogger("jupyter_flows")
    package_logger.addHandler(reporter)
    if package_logger.getEffectiveLevel() > logging.INFO:
        package_logger.setLevel(logging.INFO)
    watch = CancelWatch(client, flow_run_id).follow()
    try:
        with Heartbeat(client, flow_run_id, lease_id, interval,
                       on_cancelling=watch.request) as heartbeat:
            try:
                flow = load_registered_flow(flow_record.storage)
                executor = executor_from_config(run.executor or flow_record.executor or None)
                checkpoint_by_default(flow)
                # a restarted run (or a rescheduled one) keeps what its earlier attempt
                # finished with a checkpoint: those task runs are seeded, not run again
                kept = kept_task_states(client, flow_run_id, flow)
            except JupyterFlowsError as exc:
                _log.error("cannot start flow run %s: %s", flow_run_id, exc)
                reporter.flush()
                client.set_flow_run_state(flow_run_id, "Failed", str(exc), lease_id=lease_id)
                return 1
            # nobody watches this process's stdout: what tasks print becomes their log
            # records, so it reaches the run's logs in the backend (and the run view)
            for task in flow.tasks:
                task.log_stdout = True
            if flow.executor is not None and not (run.executor or flow_record.executor):
                executor = executor_from_config(flow.executor)
            if kept:
                _log.info("flow run %s: %d task(s) kept from an earlier attempt: %s",
                          flow_run_id, len(kept), ", ".join(sorted(str(t.slug) for t in kept)))
            try:
                slots = BackendTaskSlots.for_run(client, flow_run_id, lease_id, patience)
                # what start-up made lives as long as the process: later collections need
                # not look at it; task code runs with the collector on (``python -m
                # jupyter_flows`` starts a flow-run process with it off)
                gc.freeze()
                gc.enable()
                with watch.engine():
                    state = run_flow(flow, parameters=run.parameters, executor=executor,
                                     observers=[reporter], progress=False,
                                     flow_run_id=flow_run_id, task_slots=slots,
                                     task_states=kept)
            except KeyboardInterrupt:  # the cancel landed outside the runner's own handling
                from jupyter_flows.engine.states import Cancelled

                state = Cancelled("interrupted before its task runs started")
            except JupyterFlowsError as exc:  # bad parameters, cluster that cannot start
                _log.error("flow run %s failed before its tasks ran: %s", flow_run_id, exc)
                reporter.flush()
                client.set_flow_run_state(flow_run_id, "Failed", str(exc), lease_id=lease_id)
                return 1
            if heartbeat.lost.is_set():
                _log.error("flow run %s finished %s, but its lease was lost: not reporting",
                           flow_run_id, state.name)
                return 1
        if watch.requested.is_set():
            state = _cancelled_state(state, watch.how)
        reporter.flush()
        _final_state(client, flow_run_id, state.name, state.message, lease_id, patience)
        return 0 if state.is_successful() else 1
    finally:
        package_logger.removeHandler(reporter)
        reporter.close()
