"""``switch``, ``ifelse`` and ``merge``: branches that run one task and skip the others."""

from __future__ import annotations

from typing import Any

from jupyter_flows.core import building
from jupyter_flows.core.control_flow import CompareValue, merge
from jupyter_flows.core.task import Task, as_task, task
from jupyter_flows.errors import FlowContextError

__all__ = ["CompareValue", "ifelse", "merge", "switch"]


def _flow(flow: Any, what: str) -> Any:
    flow = flow if flow is not None else building.active_flow()
    if flow is None:
        raise FlowContextError(f"{what}(...) must be used inside `with Flow(...):` or get flow=")
    return flow


def switch(condition: Any, cases: dict[Any, Any], mapped: bool = False,
           flow: Any = None) -> None:
    """Run the task of the key equal to ``condition``'s result; the others skip, and so do
    their downstream tasks unless they set ``skip_on_upstream_skip=False``.

    The case tasks' own upstream tasks run either way: only the case tasks are gated.
    """
    flow = _flow(flow, "switch")
    condition = as_task(condition, flow)
    for value, case_task in cases.items():
        gate = CompareValue(value)
        if mapped:
            gate.bind(condition, flow=flow, mapped=True)
        else:
            gate.bind(condition, flow=flow)
        flow.add_edge(gate, as_task(case_task, flow), mapped=mapped)


def _as_bool(x: Any) -> bool:
    return bool(x)


def ifelse(condition: Any, true_task: Any, false_task: Any, mapped: bool = False,
           flow: Any = None) -> None:
    """Run ``true_task`` when ``condition``'s result is truthy, else ``false_task`` (either
    may be None); the other one skips."""
    flow = _flow(flow, "ifelse")
    cases = {value: t for value, t in ((True, true_task), (False, false_task)) if t is not None}
    if not cases:
        return
    as_bool: Task = task(name="as_bool")(_as_bool)
    truth = as_bool.map(condition, flow=flow) if mapped else as_bool(condition, flow=flow)
    switch(truth, cases, mapped=mapped, flow=flow)
