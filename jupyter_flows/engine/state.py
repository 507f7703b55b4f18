"""The states under Prefect 1.x's module path (``prefect.engine.state``); the engine's own
module is ``jupyter_flows.engine.states``."""

from jupyter_flows.engine.states import (
    ALL_STATES,
    Cached,
    Cancelled,
    Cancelling,
    Crashed,
    Failed,
    Finished,
    Mapped,
    Paused,
    Pending,
    Retrying,
    Running,
    Scheduled,
    Skipped,
    State,
    Submitted,
    Success,
    TimedOut,
    TriggerFailed,
    state_from_name,
)

__all__ = ["ALL_STATES", "Cached", "Cancelled", "Cancelling", "Crashed", "Failed", "Finished",
           "Mapped", "Paused", "Pending", "Retrying", "Running", "Scheduled", "Skipped", "State",
           "Submitted", "Success", "TimedOut", "TriggerFailed", "state_from_name"]
