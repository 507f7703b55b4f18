"""``apply_map(func, *args)``: map a function that *builds* tasks (with ``case`` blocks,
several steps, a ``merge``) over its arguments, as Prefect 1.x's ``apply_map`` does.

``func`` runs once, on placeholder tasks, inside a scratch flow; its tasks then move into
the real flow as mapped tasks: an edge from a mapped argument or from another task made by
``func`` maps child by child, an edge from an ``unmapped`` argument passes it whole. Each
task ``func`` made without an upstream of its own also depends on every argument, so all
of them run once per element and only after their inputs.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from jupyter_flows.core import building
from jupyter_flows.core.edges import flatten, unmapped
from jupyter_flows.core.parameter import Parameter
from jupyter_flows.core.task import Constant, Task, as_task, holds_task
from jupyter_flows.errors import BindError, FlowContextError

if TYPE_CHECKING:
    from jupyter_flows.core.flow import Flow


def apply_map(func: Callable[..., Any], *args: Any, flow: Flow | None = None,
              **kwargs: Any) -> Any:
    """Build ``func``'s tasks once per element of the mapped arguments; returns what
    ``func`` returns (its tasks, now mapped). With ``flow=``, ``func`` gets ``flow=`` too."""
    from jupyter_flows.core.flow import Flow

    explicit_flow = flow is not None
    target = flow if flow is not None else building.active_flow()
    if target is None:
        raise FlowContextError("apply_map(...) must be used inside `with Flow(...):` or get"
                               " flow=")
    for value in itertools.chain(args, kwargs.values()):
        inner = value.value if isinstance(value, unmapped | flatten) else value
        if not isinstance(value, unmapped) and not (
                isinstance(inner, Task | Sequence) or holds_task(inner)):
            raise BindError(f"apply_map: cannot map over a {type(inner).__name__}"
                            f" ({inner!r}); pass a list or a task, or wrap it in unmapped()")

    scratch = Flow("apply_map")
    # argument task -> (mapped, flattened, constant)
    arguments: dict[Task, tuple[bool, bool, bool]] = {}

    def placeholder(value: Any) -> Any:
        is_mapped = not isinstance(value, unmapped)
        flattened = isinstance(value, flatten)
        inner = value.value if isinstance(value, unmapped | flatten) else value
        if isinstance(inner, Task) or holds_task(inner):
            arg = as_task(inner, target)
            scratch.add_task(arg)
            arguments[arg] = (is_mapped, flattened, False)
            return arg
        if not is_mapped:
            return inner  # a constant given whole to every element
        arg = Constant(inner)
        scratch.add_task(arg)
        arguments[arg] = (True, flattened, True)
        return arg

    args2 = [placeholder(a) for a in args]
    kwargs2 = {k: placeholder(v) for k, v in kwargs.items()}
    token = building.enter_flow(scratch)
    cases = building.push_cases(())  # cases around the call gate the result, not the inside
    try:
        result = func(*args2, flow=scratch, **kwargs2) if explicit_flow else func(*args2,
                                                                                  **kwargs2)
    finally:
        building.pop_case(cases)
        building.exit_flow(token)

    made = [t for t in scratch.tasks if t not in arguments]
    for t in made:
        if not isinstance(t, Parameter):
            t.slug = None  # the scratch flow's slugs may clash with the real flow's
    for arg, (_, _, constant) in arguments.items():
        if constant:
            target.add_task(arg)
    for t in made:
        target.add_task(t)
    for edge in scratch.edges:
        is_mapped, flattened, _ = arguments.get(edge.upstream, (True, False, False))
        target.add_edge(edge.upstream, edge.downstream, edge.key, mapped=is_mapped,
                        flattened=flattened)
    for t, constants in scratch.constants.items():
        target.constants.setdefault(t, {}).update(constants)
    made_set = set(made)
    for t in made:
        upstream = set(target.upstream_tasks(t))
        if upstream & made_set:
            continue
        for arg, (is_mapped, flattened, _) in arguments.items():
            if arg not in upstream:
                target.add_edge(arg, t, mapped=is_mapped, flattened=flattened)
    return result
