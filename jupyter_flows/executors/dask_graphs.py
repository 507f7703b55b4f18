"""Handing a stage's graph to a distributed Client without tokenizing it.

``Client.get`` wraps a dict graph in dask's low-level graph expression, whose name is a
deterministic token of the whole graph: dask pickles every task's function to compute it
(each task run's runner, with its task), which cost about a quarter of a 1,000-task
fan-out's driver time. A stage's keys are already unique to its flow run, so the name is
taken from them instead.
"""

from __future__ import annotations

import uuid
from typing import Any


def named_graph(graph: dict[str, Any], first_key: str) -> Any:
    """``graph`` as dask's graph expression, named without tokenizing its tasks; the plain
    dict (which ``Client.get`` tokenizes) if this dask has no such expression."""
    try:
        from dask._expr import LLGExpr
    except ImportError:  # pragma: no cover - older or newer dask: tokenizing is only slower
        return graph
    return LLGExpr(graph, _determ_token=f"{first_key}-{uuid.uuid4().hex}")


BATCH_FROM = 16
"""Gathering this many finished calls or more goes through one call on the cluster."""


def as_list(*values: Any) -> list[Any]:
    """Runs on a worker: the values of its dependencies, as one result to fetch."""
    return list(values)


def gather_finished(client: Any, futures: list[Any]) -> list[Any]:
    """The values of finished ``futures``, in order.

    ``Client.gather`` of many futures costs the driver and the scheduler a lookup and a
    message part per key (a 1,000-task fan-out spent a tenth of its run there); one
    ``as_list`` call placed where most values already are brings them back in one piece.
    """
    if len(futures) < BATCH_FROM:
        return list(client.gather(futures))
    # a graph, not Client.submit: submit processes each of its arguments (slower here)
    key = f"gather-{uuid.uuid4().hex}"
    [batch] = client.get(named_graph({key: (as_list, *futures)}, key), [key], sync=False)
    try:
        return list(batch.result())
    finally:
        batch.release()
