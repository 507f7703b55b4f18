"""The start of a flow run, made patient: Submitted -> Running across a backend outage.

Before Running nothing of the run has happened, so when the backend stays unreachable for
the whole ``patience``, or the claim was taken back meanwhile (its lease expired, its
start timeout passed), the process says so and exits with ``EXIT_NOT_STARTED``: the agent
hands the claim back (or the server's sweeper does), and no retry is used.

The Running write is not idempotent: when its answer is lost (the server died after
committing it) the run is read back, and a run Running with this process's start message
is this process's own.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING

from jupyter_flows.client.patience import call_patiently
from jupyter_flows.errors import BackendUnavailable, ConflictError

if TYPE_CHECKING:
    from jupyter_flows.api import Flow, FlowRun
    from jupyter_flows.client.client import Client

#: Exit code of a flow-run process that did not start its run (nothing of it ran).
EXIT_NOT_STARTED = 3

_log = logging.getLogger("jupyter_flows.flow_run.startup")


@dataclass
class Started:
    run: FlowRun
    flow: Flow


class NotStarted(Exception):
    """The run was not started here; the message says why (for the log)."""


def start_run(client: Client, flow_run_id: str, lease_id: str | None, patience: float
              ) -> Started:
    """Load the run and its flow record and move the run to Running; ``NotStarted`` when
    that cannot be done (a finished run, a claim taken back, a backend that stayed away).
    A run cancelled before it started comes back ``Cancelling``, for the caller to end."""
    what = f"starting flow run {flow_run_id}"
    message = f"started on pid {os.getpid()}"
    try:
        run = call_patiently(lambda: client.get_flow_run(flow_run_id), patience=patience,
                             what=what)
        flow = call_patiently(lambda: client.get_flow(run.flow_id), patience=patience,
                              what=what)
        if run.state in ("Running", "Cancelling"):  # the caller ends a Cancelling one
            return Started(run, flow)
        if run.state not in ("Scheduled", "Submitted"):
            raise NotStarted(f"flow run {flow_run_id} is {run.state}; nothing to execute")
        try:
            client.set_flow_run_state(flow_run_id, "Running", message, lease_id=lease_id)
        except BackendUnavailable:
            # the write may have been applied before the answer was lost: look
            run = call_patiently(lambda: client.get_flow_run(flow_run_id), patience=patience,
                                 what=what)
            if not (run.state == "Running" and run.state_message == message):
                call_patiently(lambda: client.set_flow_run_state(
                    flow_run_id, "Running", message, lease_id=lease_id),
                    patience=patience, what=what)
    except BackendUnavailable as exc:
        raise NotStarted(f"the backend stayed unreachable for {patience:g} s while flow run "
                         f"{flow_run_id} was starting ({exc}); it was not started, and goes "
                         f"back to the queue without using a retry") from exc
    except ConflictError as exc:
        again = call_patiently(lambda: client.get_flow_run(flow_run_id), patience=patience,
                               what=what)
        if again.state == "Cancelling":  # cancelled while it was being started
            return Started(again, flow)
        raise NotStarted(f"flow run {flow_run_id} was not started: its claim is no longer "
                         f"valid ({exc.reason})") from exc
    return Started(run, flow)
