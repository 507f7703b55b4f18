"""The flow spec: a JSON description of a flow's graph and task options, with no code.

The backend stores it and the UI draws the DAG from its edges; the code travels separately,
in Storage. For ``inc.map(flatten(n))`` after ``n = Parameter("n", default=[[1], [2]])``::

    {
      "name": "example",
      "tasks": [
        {"slug": "n", "name": "n", "type": "Parameter", "tags": [], "max_retries": 0,
         "retry_delay": 0.0, "timeout": null, "trigger": "all_successful",
         "skip_on_upstream_skip": true, "cache_for": null, "checkpoint": null,
         "is_parameter": true, "parameter": {"default": [[1], [2]], "required": false},
         "mapped": false},
        {"slug": "inc-1", "name": "inc", "type": "FunctionTask", ..., "is_parameter": false,
         "mapped": true}
      ],
      "edges": [{"upstream": "n", "downstream": "inc-1", "key": "x", "mapped": true,
                 "flattened": true}],
      "parameters": ["n"],
      "reference_tasks": ["inc-1"]
    }

A flow with a schedule also has ``"schedule": flow.schedule.model_dump(mode="json")``; the key
is left out without one, so those specs (and their hashes) are what they were before
schedules existed.

Tasks come in topological order and edges in the order of their downstream task, so one
flow built twice gives the same spec and the same :func:`spec_hash`. A parameter default
that is not JSON is given as ``"default": null, "default_repr": repr(default)``. Constant
inputs that are not tasks (``inc(1)``) are data, not graph, and are left out.
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from jupyter_flows.core.parameter import Parameter

if TYPE_CHECKING:
    from jupyter_flows.core.flow import Flow
    from jupyter_flows.core.task import Task

__all__ = ["flow_spec", "spec_hash"]


def flow_spec(flow: Flow) -> dict[str, Any]:
    """The JSON-able spec of ``flow`` (see the module docstring); checks the graph first."""
    order = flow.sorted_tasks()
    edges = [edge for t in order for edge in flow.edges_to(t)]
    mapped = {e.downstream for e in edges if e.mapped}
    spec: dict[str, Any] = {
        "name": flow.name,
        "tasks": [_task_spec(t, t in mapped) for t in order],
        "edges": [
            {"upstream": e.upstream.slug, "downstream": e.downstream.slug, "key": e.key,
             "mapped": e.mapped, "flattened": e.flattened}
            for e in edges
        ],
        "parameters": [p.name for p in order if isinstance(p, Parameter)],
        "reference_tasks": [t.slug for t in flow.reference_tasks()],
    }
    if flow.schedule is not None:
        # only when set, so flows without one keep the spec hash they were registered with
        spec["schedule"] = flow.schedule.model_dump(mode="json")
    return spec


def spec_hash(spec: dict[str, Any]) -> str:
    """The sha256 (hex) of the canonical JSON of ``spec``: sorted keys, no whitespace."""
    text = json.dumps(spec, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _task_spec(task: Task, mapped: bool) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "slug": task.slug,
        "name": task.name,
        "type": type(task).__name__,
        "tags": sorted(task.tags),
        "max_retries": task.max_retries,
        "retry_delay": task.retry_delay,
        "timeout": task.timeout,
        "trigger": getattr(task.trigger, "__name__", type(task.trigger).__name__),
        "skip_on_upstream_skip": task.skip_on_upstream_skip,
        "cache_for": task.cache_for,
        "checkpoint": task.checkpoint,
        "is_parameter": isinstance(task, Parameter),
        "mapped": mapped,
    }
    if isinstance(task, Parameter):
        spec["parameter"] = {**_json_value(task.default), "required": task.required}
    return spec


def _json_value(value: Any) -> dict[str, Any]:
    try:
        # the JSON form itself (tuples become lists), so the spec is what the backend reads back
        text = json.dumps(value, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError):
        return {"default": None, "default_repr": repr(value)}
    return {"default": json.loads(text)}
