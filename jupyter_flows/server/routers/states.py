"""Setting a flow run's state (checked by the orchestration rules) and its history."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from jupyter_flows.api import CancelRequest, FlowRun, RestartRequest, StateRecord, StateWrite
from jupyter_flows.server.deps import BackendDep
from jupyter_flows.server.models import FlowModel, FlowRunStateModel, utcnow
from jupyter_flows.server.orchestration import (
    apply_state,
    attempts,
    cancel,
    lease_problem,
    reschedule_if_retries_left,
    transition_problem,
)
from jupyter_flows.server.restarts import from_task_problem, restart, restart_problem
from jupyter_flows.server.returns import hand_back
from jupyter_flows.server.runs import conflict, describe_run, load_run

router = APIRouter(prefix="/flow_runs", tags=["states"])


@router.post("/{flow_run_id}/state", response_model=FlowRun,
             responses={409: {"description": "refused: transition, version or lease"}})
def set_flow_run_state(flow_run_id: str, body: StateWrite, backend: BackendDep) -> FlowRun:
    """Checks, in order: ``expected_version``, the lease, then the transition table."""
    timeout = backend.settings.lease_timeout

    def work(session: Session) -> FlowRun:
        now = utcnow()
        run = load_run(session, flow_run_id, backend.db.kind, for_update=True)
        if body.expected_version is not None and body.expected_version != run.version:
            raise conflict(f"flow run {run.id} is at version {run.version} ({run.state}), "
                           f"not the expected version {body.expected_version}")
        if body.state == "Cancelled" and body.lease_id is None:
            # a person's cancel: the same rule as POST .../cancel (a claimed run goes
            # Cancelling, so that its process stops the work)
            if cancel(session, run, body.message, now, timeout):  # it has finished
                raise conflict(f"flow run {run.id}: " + (transition_problem(
                    run.state, "Cancelled", attempts(run), run.max_retries) or ""))
            return describe_run(session, run)
        problem = lease_problem(run, body.lease_id, now)
        if problem:
            raise conflict(problem)
        problem = transition_problem(run.state, body.state, attempts(run), run.max_retries)
        if problem:
            raise conflict(f"flow run {run.id}: {problem}")
        if run.state == "Submitted" and body.state == "Scheduled":
            # an agent hands back a claim it did not start: no retry is used
            hand_back(session, run, body.message or "handed back by its agent", now, timeout)
            return describe_run(session, run)
        was = run.state
        apply_state(session, run, body.state, body.message, now, timeout)
        if body.state == "Crashed" and was != "Cancelling":
            reschedule_if_retries_left(session, run, now, timeout)
        return describe_run(session, run)

    return backend.db.run(work)


@router.post("/{flow_run_id}/cancel", response_model=FlowRun,
             responses={409: {"description": "the run has already finished"}})
def cancel_flow_run(flow_run_id: str, backend: BackendDep,
                    body: CancelRequest | None = None) -> FlowRun:
    """Cancel a run: one nobody runs yet (Scheduled, Paused) is Cancelled at once; a claimed
    one (Submitted, Running) becomes Cancelling, and its flow-run process (or, after the
    grace period, its agent) ends it Cancelled; a finished run is refused (409)."""
    timeout = backend.settings.lease_timeout
    message = body.message if body is not None else None

    def work(session: Session) -> FlowRun:
        run = load_run(session, flow_run_id, backend.db.kind, for_update=True)
        problem = cancel(session, run, message, utcnow(), timeout)
        if problem:
            raise conflict(problem)
        return describe_run(session, run)

    return backend.db.run(work)


@router.post("/{flow_run_id}/restart", response_model=FlowRun,
             responses={409: {"description": "the run is not a finished, unsuccessful one"},
                        422: {"description": "from_task names no task of the flow"}})
def restart_flow_run(flow_run_id: str, backend: BackendDep,
                     body: RestartRequest | None = None) -> FlowRun:
    """Restart a Failed, Crashed, TimedOut, TriggerFailed or Cancelled run: the same run goes
    back to Scheduled (an agent claims it again) and only its task runs that did not succeed
    with a checkpointed result run again (with ``from_task``, also that task and everything
    downstream of it). Any other state is refused (409)."""
    timeout = backend.settings.lease_timeout
    from_task = body.from_task if body is not None else None

    def work(session: Session) -> FlowRun:
        run = load_run(session, flow_run_id, backend.db.kind, for_update=True)
        problem = restart_problem(run)
        if problem:
            raise conflict(problem)
        spec = session.get_one(FlowModel, run.flow_id).spec
        if from_task is not None and (problem := from_task_problem(spec, from_task)):
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT,
                                detail=f"flow run {run.id}: {problem}")
        restart(session, run, spec, from_task, utcnow(), timeout)
        return describe_run(session, run)

    return backend.db.run(work)


@router.get("/{flow_run_id}/states", response_model=list[StateRecord])
def read_flow_run_states(flow_run_id: str, backend: BackendDep) -> list[StateRecord]:
    """Every state the run has been in, oldest first."""

    def work(session: Session) -> list[StateRecord]:
        run = load_run(session, flow_run_id, backend.db.kind)
        rows = session.scalars(select(FlowRunStateModel)
                               .where(FlowRunStateModel.flow_run_id == run.id)
                               .order_by(FlowRunStateModel.id))
        return [StateRecord.model_validate(row) for row in rows]

    return backend.db.run(work, write=False)
