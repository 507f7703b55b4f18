"""Claims that never started go back to the queue, with their retries intact.

A run is Submitted from its claim until its flow-run process says Running; no task code
runs in between. So a Submitted run that is given up on (its lease expired, its start
timeout passed, its flow-run process could not reach the backend and said so) never ran:
it goes back to Scheduled and the claim's ``run_count`` increment is undone, so no retry
is consumed. Its lease is cleared, so the agent that held the claim is refused if it tries
to start it later.

A run that keeps failing to start would cycle for ever; after ``MAX_RETURNS`` returns it is
Crashed the ordinary way (which does consume a retry).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from jupyter_flows.server.models import FlowRunModel, FlowRunStateModel
from jupyter_flows.server.orchestration import apply_state, crash

#: How a returned run's Scheduled state message starts (also how returns are counted).
RETURN_PREFIX = "returned to the queue without using a retry"
#: Returns after which a run that never starts is Crashed instead.
MAX_RETURNS = 3


def returns_so_far(session: Session, run: FlowRunModel) -> int:
    return session.scalar(select(func.count()).select_from(FlowRunStateModel).where(
        FlowRunStateModel.flow_run_id == run.id, FlowRunStateModel.state == "Scheduled",
        FlowRunStateModel.message.startswith(RETURN_PREFIX))) or 0


def hand_back(session: Session, run: FlowRunModel, why: str, now: datetime,
              lease_timeout: float) -> bool:
    """Return the Submitted ``run`` to Scheduled, undoing its claim; True if it was.

    After ``MAX_RETURNS`` returns the run is Crashed instead (and rescheduled only if it
    has retries left): False then.
    """
    assert run.state == "Submitted", run.state
    if returns_so_far(session, run) >= MAX_RETURNS:
        crash(session, run, f"never started after {MAX_RETURNS + 1} claims: {why}", now,
              lease_timeout)
        return False
    run.run_count = max(0, run.run_count - 1)
    apply_state(session, run, "Scheduled", f"{RETURN_PREFIX}: {why}", now, lease_timeout)
    run.exit_code = None
    return True
