"""The flow spec: a typed JSON description of a flow's graph and task options, with no code.

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

A flow with a schedule also has ``"schedule"`` (the :class:`~jupyter_flows.schedules.Schedule`
as JSON); the key is left out without one, so those specs (and their hashes) are what they
were before schedules existed.

Tasks come in topological order and edges in the order of their downstream task, so one
flow built twice gives the same spec and the same :func:`spec_hash`. A parameter default
that is not JSON is given as ``"default": null, "default_repr": repr(default)``. Constant
inputs that are not tasks (``inc(1)``) are data, not graph, and are left out.

:func:`flow_spec` makes a :class:`FlowSpec` from a flow; :func:`flow_from_spec` makes a flow
back from one, with the same tasks and edges but no code (to draw a registered flow).
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from jupyter_flows.api.bounds import (
    LIST_MAX,
    JsonValue,
    Message,
    Name,
    Retries,
    Seconds,
    ShortText,
    Slug,
)
from jupyter_flows.schedules import Schedule

if TYPE_CHECKING:
    from jupyter_flows.core.flow import Flow
    from jupyter_flows.core.task import Task

__all__ = ["EdgeSpec", "FlowSpec", "ParameterSpec", "TaskSpec", "flow_from_spec", "flow_spec",
           "spec_hash"]


class _Spec(BaseModel):
    # a spec in a response has every field (defaults filled in): its schema says so, so the
    # generated TypeScript types need no optional chaining on what is always there
    model_config = ConfigDict(extra="forbid", json_schema_serialization_defaults_required=True)


class ParameterSpec(_Spec):
    """A parameter's default as JSON; ``default_repr`` when the default is not JSON."""

    default: JsonValue = None
    default_repr: Message | None = None
    required: bool = False


class TaskSpec(_Spec):
    slug: Slug = Field(min_length=1)
    name: Slug
    type: ShortText = Field(description="the task's class name")
    tags: list[Name] = Field(default_factory=list, max_length=LIST_MAX)
    max_retries: Retries = 0
    retry_delay: Seconds | None = 0.0
    timeout: Seconds | None = None
    trigger: ShortText = "all_successful"
    skip_on_upstream_skip: bool = True
    cache_for: Seconds | None = None
    checkpoint: bool | None = None
    is_parameter: bool = False
    parameter: ParameterSpec | None = None
    mapped: bool = Field(False, description="true when any of its inputs is mapped")


class EdgeSpec(_Spec):
    upstream: Slug
    downstream: Slug
    key: ShortText | None = None
    mapped: bool = False
    flattened: bool = False


class FlowSpec(_Spec):
    """A flow as the backend and the UIs see it; see the module docstring."""

    name: Name
    tasks: list[TaskSpec] = Field(default_factory=list, max_length=LIST_MAX)
    edges: list[EdgeSpec] = Field(default_factory=list, max_length=10 * LIST_MAX)
    parameters: list[Slug] = Field(default_factory=list, max_length=LIST_MAX)
    reference_tasks: list[Slug] = Field(default_factory=list, max_length=LIST_MAX)
    code_location: Message | None = Field(None, description="where the registered code is stored; "
                                                        "a new location makes a new version")
    schedule: Schedule | None = Field(None, description="when the backend creates its runs")

    def declared_parameters(self) -> dict[str, bool]:
        """Parameter name -> whether it is required."""
        required = {t.name: bool(t.parameter and t.parameter.required)
                    for t in self.tasks if t.is_parameter}
        return {name: required.get(name, False) for name in self.parameters}

    def as_json(self) -> dict[str, Any]:
        """The spec as sent (fields never set are left out, so hashes stay stable)."""
        return self.model_dump(mode="json", exclude_unset=True)


def flow_spec(flow: Flow) -> FlowSpec:
    """The spec of ``flow`` (see the module docstring); checks the graph first."""
    from jupyter_flows.core.parameter import Parameter

    order = flow.sorted_tasks()
    edges = [edge for t in order for edge in flow.edges_to(t)]
    mapped = {e.downstream for e in edges if e.mapped}
    # every field of the schedule set, so the hash does not depend on how it was written
    schedule = ({"schedule": Schedule.model_validate(flow.schedule.model_dump(mode="json"))}
                if flow.schedule is not None else {})
    return FlowSpec(
        name=flow.name,
        tasks=[_task_spec(t, t in mapped) for t in order],
        edges=[EdgeSpec(upstream=e.upstream.slug, downstream=e.downstream.slug, key=e.key,
                        mapped=e.mapped, flattened=e.flattened) for e in edges],
        parameters=[p.name for p in order if isinstance(p, Parameter)],
        reference_tasks=[t.slug for t in flow.reference_tasks()],
        **schedule,
    )


def spec_hash(spec: FlowSpec | dict[str, Any]) -> str:
    """The sha256 (hex) of the canonical JSON of ``spec``: sorted keys, no whitespace."""
    data = spec.as_json() if isinstance(spec, FlowSpec) else spec
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()


def flow_from_spec(spec: FlowSpec | dict[str, Any]) -> Flow:
    """A Flow with the spec's tasks and edges, to draw a registered flow's DAG; its tasks
    cannot run (the code lives in storage)."""
    from jupyter_flows.core.flow import Flow
    from jupyter_flows.core.parameter import Parameter
    from jupyter_flows.core.task import Task

    class SpecTask(Task):
        def run(self, **inputs: Any) -> Any:
            raise RuntimeError(f"task {self.name!r} was rebuilt from a flow spec to draw it; "
                               "load the flow from its storage to run it")

    spec = spec if isinstance(spec, FlowSpec) else FlowSpec.model_validate(spec)
    flow = Flow(spec.name)
    tasks: dict[str, Task] = {}
    for item in spec.tasks:
        name = item.name or item.slug
        task: Task
        try:
            task = (Parameter(name) if item.is_parameter and item.slug == name
                    else SpecTask(name, slug=item.slug))
        except ValueError:  # a parameter name this version would refuse: draw it anyway
            task = SpecTask(name, slug=item.slug)
        tasks[item.slug] = flow.add_task(task)
    for edge in spec.edges:
        flow.add_edge(tasks[edge.upstream], tasks[edge.downstream], edge.key, edge.mapped,
                      edge.flattened)
    return flow


def _task_spec(task: Task, mapped: bool) -> TaskSpec:
    from jupyter_flows.core.parameter import Parameter

    is_parameter = isinstance(task, Parameter)
    return TaskSpec(
        slug=task.slug, name=task.name, type=type(task).__name__, tags=sorted(task.tags),
        max_retries=task.max_retries, retry_delay=task.retry_delay, timeout=task.timeout,
        trigger=getattr(task.trigger, "__name__", type(task.trigger).__name__),
        skip_on_upstream_skip=task.skip_on_upstream_skip, cache_for=task.cache_for,
        checkpoint=task.checkpoint, is_parameter=is_parameter, mapped=mapped,
        **({"parameter": _parameter_spec(task)} if is_parameter else {}),
    )


def _parameter_spec(parameter: Any) -> ParameterSpec:
    value = parameter.default
    try:
        # the JSON form itself (tuples become lists), so the spec is what the backend reads back
        text = json.dumps(value, sort_keys=True, allow_nan=False)
    except (TypeError, ValueError):
        return ParameterSpec(default=None, default_repr=repr(value), required=parameter.required)
    return ParameterSpec(default=json.loads(text), required=parameter.required)
