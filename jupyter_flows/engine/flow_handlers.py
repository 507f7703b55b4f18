"""A flow's state handlers: user code called in the driver as the flow run changes state.

As with a task's handlers, an exception in one is not the engine's: it ends the flow run
``Failed``, naming the handler and keeping its traceback, instead of escaping the run.
"""

from __future__ import annotations

from typing import Any

from jupyter_flows.core.flow import Flow
from jupyter_flows.engine.states import Failed, State
from jupyter_flows.engine.tracebacks import user_traceback


def call_flow_handlers(flow: Flow, old: State | None, new: State) -> tuple[State, bool]:
    """``new`` as the handlers leave it, and whether one of them raised (then the state is
    ``Failed`` and the later handlers are not called)."""
    for handler in flow.state_handlers:
        try:
            replaced = handler(flow, old, new)
        except Exception as exc:
            failed = Failed(f"flow state handler {_name(handler)} raised "
                            f"{type(exc).__name__}: {exc} (on {new.name})",
                            result=new.result if new.result is not None else {},
                            traceback=user_traceback(exc))
            failed.context = new.context
            return failed, True
        if replaced is not None:
            new = replaced
    return new, False


def _name(fn: Any) -> str:
    return getattr(fn, "__name__", repr(fn))
