"""What the engine hands an executor's session: ``EngineHooks``.

Executors sit below the engine in the layers and never import it; they make, ship, decode
and report states, and re-emit log records from other processes, through these hooks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jupyter_flows.engine.logs import reemit
from jupyter_flows.engine.states import Cancelled, Crashed, Failed, Running, State, state_from_name
from jupyter_flows.executors.base import EngineHooks, EventHandler


def engine_hooks(on_event: EventHandler | None) -> EngineHooks:
    """The hooks of one flow run; ``on_event`` hears its task runs' state changes."""
    return EngineHooks(on_event=on_event, on_log=reemit, failed=Failed, crashed=Crashed,
                       cancelled=Cancelled, encode_state=state_to_event,
                       decode_state=state_from_event, result_events=result_events)


def state_to_event(state: State) -> dict[str, Any]:
    """A state change as plain data (no result: results stay where they were computed)."""
    return {"state": state.name, "message": state.message, "timestamp": state.timestamp,
            "run_count": state.run_count}


def state_from_event(data: Mapping[str, Any]) -> State:
    return state_from_name(data["state"], data["message"], timestamp=data["timestamp"],
                           run_count=data["run_count"])


def result_events(value: Any) -> list[State]:
    """What a task run's final state, arriving from a process pool, tells observers.

    A call's start does not tell whether its task will run (it may skip, fail its trigger,
    be a parameter or a map's parent), so ``Running`` is reported here, only for states
    that went through attempts: observers see what the other executors report.
    """
    if not isinstance(value, State):
        return []
    if value.run_count > 0:
        return [Running(run_count=value.run_count), value]
    return [value]
