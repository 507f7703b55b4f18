"""The triggers under Prefect 1.x's module path (``prefect.triggers``)."""

from jupyter_flows.core.triggers import (
    Trigger,
    all_failed,
    all_finished,
    all_states,
    all_successful,
    always_run,
    any_failed,
    any_successful,
    manual_only,
    not_all_skipped,
    some_failed,
    some_successful,
)

__all__ = ["Trigger", "all_failed", "all_finished", "all_states", "all_successful",
           "always_run", "any_failed", "any_successful", "manual_only", "not_all_skipped",
           "some_failed", "some_successful"]
