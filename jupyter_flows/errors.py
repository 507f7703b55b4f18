"""Every error jupyter-flows raises, in one tree.

    JupyterFlowsError
    ├── FlowDefinitionError       the graph is wrong
    │   ├── CycleError            names the path, e.g. ``a -> b -> a``
    │   ├── DuplicateSlugError    two tasks share a slug
    │   ├── FlowContextError      a task was called where no flow is active
    │   └── BindError             a task was called with arguments its function cannot take
    ├── ParameterError            a required parameter is missing or an unknown one was given
    ├── ExecutorError             an executor cannot be built or started
    └── ResultError               a checkpointed result cannot be written or read

Exceptions raised by user code inside a task never pass through this tree: they end up
in the task's ``Failed`` state, with their own traceback.
"""

from __future__ import annotations


class JupyterFlowsError(Exception):
    """Base class of all errors raised by jupyter-flows itself."""


class FlowDefinitionError(JupyterFlowsError):
    """The flow's graph breaks a rule (cycle, duplicate slug, bad edge)."""


class CycleError(FlowDefinitionError):
    """The flow's graph has a cycle; ``path`` lists the task names along it."""

    def __init__(self, flow_name: str, path: list[str]) -> None:
        self.path = path
        super().__init__(f"flow {flow_name!r} has a cycle: {' -> '.join(path)}")


class DuplicateSlugError(FlowDefinitionError):
    """Two different tasks of one flow have the same slug."""


class FlowContextError(FlowDefinitionError):
    """A task was called with no active ``Flow`` to bind it into."""


class BindError(FlowDefinitionError):
    """A task was bound to arguments its function does not accept."""


class ParameterError(JupyterFlowsError):
    """A flow run was given a missing, unknown or invalid parameter."""


class ExecutorError(JupyterFlowsError):
    """An executor configuration is unknown or its cluster cannot be started."""


class ResultError(JupyterFlowsError):
    """A checkpointed result could not be written or read back."""
