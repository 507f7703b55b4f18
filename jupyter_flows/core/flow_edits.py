"""Whole-graph edits of a flow (Prefect 1.x's ``Flow.copy``, ``replace`` and ``update``),
kept out of ``Flow`` itself, which only stores the graph and answers questions about it."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from jupyter_flows.core.parameter import Parameter
from jupyter_flows.core.task import Task, as_task
from jupyter_flows.errors import FlowDefinitionError

if TYPE_CHECKING:
    from jupyter_flows.core.flow import Flow


def copy_flow(flow: Flow) -> Flow:
    """A shallow copy: the same task objects, in graph structures of its own."""
    new = copy.copy(flow)
    new._tasks = dict(flow._tasks)
    new._by_slug = dict(flow._by_slug)
    new._slug_counts = dict(flow._slug_counts)
    new._upstream = {t: list(edges) for t, edges in flow._upstream.items()}
    new._downstream = {t: list(edges) for t, edges in flow._downstream.items()}
    new.constants = {t: dict(c) for t, c in flow.constants.items()}
    new._reference_tasks = set(flow._reference_tasks)
    new.state_handlers = list(flow.state_handlers)
    new._order = None
    return new


def _remove(flow: Flow, task: Task) -> None:
    for edge in flow._upstream.pop(task, []):
        flow._downstream[edge.upstream].remove(edge)
    for edge in flow._downstream.pop(task, []):
        flow._upstream[edge.downstream].remove(edge)
    del flow._tasks[task]
    if flow._by_slug.get(task.slug or "") is task:
        del flow._by_slug[task.slug or ""]
    flow._order = None


def replace_task(flow: Flow, old: Task, new: Any, validate: bool = True) -> None:
    if old not in flow:
        raise FlowDefinitionError(f"flow {flow.name!r}: cannot replace {old!r}, which is not in it")
    edges_in, edges_out = flow.edges_to(old), flow.edges_from(old)
    constants = flow.constants.pop(old, {})
    was_reference = old in flow._reference_tasks
    _remove(flow, old)
    new_task = as_task(new, flow)
    flow.add_task(new_task)
    for e in edges_in:
        flow.add_edge(e.upstream, new_task, e.key, e.mapped, e.flattened)
    for e in edges_out:
        flow.add_edge(new_task, e.downstream, e.key, e.mapped, e.flattened)
    if constants:
        flow.constants.setdefault(new_task, {}).update(constants)
    if was_reference:
        flow._reference_tasks = (flow._reference_tasks - {old}) | {new_task}
    if validate:
        flow.validate()


def update_flow(flow: Flow, other: Flow, merge_parameters: bool = False) -> None:
    if merge_parameters:
        theirs = {p.name: p for p in other.parameters()}
        for mine in flow.parameters():
            if mine.name in theirs and theirs[mine.name] is not mine:
                replace_task(flow, mine, theirs[mine.name], validate=False)
    for task in other.tasks:
        clash = flow._by_slug.get(task.slug or "")
        if clash is not None and clash is not task and not isinstance(task, Parameter):
            # slugs live on tasks here, and both flows numbered theirs from 1
            task.slug = None
        flow.add_task(task)
    for edge in other.edges:
        if edge not in flow._upstream[edge.downstream]:
            flow.add_edge(edge.upstream, edge.downstream, edge.key, edge.mapped, edge.flattened)
    for task, constants in other.constants.items():
        flow.constants.setdefault(task, {}).update(constants)
    flow.validate()
