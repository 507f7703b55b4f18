"""Branching: ``with case(task, value):`` runs a block only when ``task``'s result equals
``value``; ``merge(a, b)`` picks the result of whichever branch ran."""

from __future__ import annotations

from typing import Any

from jupyter_flows.core import building
from jupyter_flows.core.task import Task, as_task
from jupyter_flows.core.triggers import not_all_skipped
from jupyter_flows.errors import FlowContextError
from jupyter_flows.signals import SKIP


class CompareValue(Task):
    """Skips (and so skips the case block) unless its input equals ``value``."""

    def __init__(self, value: Any) -> None:
        self.expected = value
        super().__init__(name=f"case({value!r})")

    def run(self, value: Any) -> Any:
        if value != self.expected:
            raise SKIP(f"value {value!r} is not {self.expected!r}")
        return value


class case:  # lowercase: the public name, as in Prefect
    """Run the tasks made inside this block only when ``task``'s result equals ``value``."""

    def __init__(self, task: Any, value: Any) -> None:
        self.task = task
        self.value = value

    def __enter__(self) -> case:
        flow = building.active_flow()
        if flow is None:
            raise FlowContextError("case(...) must be used inside `with Flow(...):`")
        self._flow = flow
        self._compare = CompareValue(self.value).bind(as_task(self.task, flow), flow=flow)
        self._before = set(flow.tasks)
        self._token = building.push_case(self._compare)
        return self

    def __exit__(self, *exc: object) -> None:
        building.pop_case(self._token)
        new = [t for t in self._flow.tasks if t not in self._before and t is not self._compare]
        inside = set(new)
        for t in new:
            if not any(u in inside for u in self._flow.upstream_tasks(t)):
                self._flow.add_edge(self._compare, t)


class Merge(Task):
    """Returns the first result that is not None: the branch of a ``case`` that ran."""

    def __init__(self) -> None:
        super().__init__(name="merge", trigger=not_all_skipped, skip_on_upstream_skip=False)

    def run(self, **branches: Any) -> Any:
        for i in range(len(branches)):
            value = branches[f"branch_{i}"]
            if value is not None:
                return value
        return None


def merge(*tasks: Task, flow: Any = None, mapped: bool = False) -> Task:
    """Join the branches of ``case`` blocks: the result of whichever one did not skip
    (child by child with ``mapped=True``)."""
    flow = flow if flow is not None else building.active_flow()
    if flow is None:
        raise FlowContextError("merge(...) must be used inside `with Flow(...):`")
    branches: dict[str, Any] = {f"branch_{i}": t for i, t in enumerate(tasks)}
    return Merge().bind(flow=flow, mapped=mapped, **branches)
