"""Turning a stage of calls into a dask graph (legacy tuple form, understood by every dask
scheduler): ``Ref``s become keys of the same stage, or earlier results via ``resolve``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from jupyter_flows.executors.base import Call, Ref


def stage_graph(calls: Sequence[Call], resolve: Callable[[str], Any]) -> dict[str, Any]:
    """The dask graph of ``calls``; a Ref to a key outside the stage becomes ``resolve(key)``."""
    keys = {c.key for c in calls}
    graph: dict[str, Any] = {}
    for call in calls:
        args = []
        for a in call.args:
            if type(a) is Ref:
                args.append(a.key if a.key in keys else resolve(a.key))
            elif isinstance(a, tuple):
                args.append(list(a))  # a literal tuple must not look like a task to dask
            else:
                args.append(a)
        graph[call.key] = (call.fn, *args)
    return graph
