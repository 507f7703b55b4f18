"""Graph algorithms on a flow: topological order and cycle paths, each linear in its size."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

N = TypeVar("N")


def topological_order(
    nodes: Sequence[N], downstream: Callable[[N], Iterable[N]]
) -> tuple[list[N], list[N]]:
    """Kahn's algorithm, stable in ``nodes`` order; returns ``(order, nodes_left_in_cycles)``."""
    indegree: dict[N, int] = dict.fromkeys(nodes, 0)
    for node in nodes:
        for child in downstream(node):
            indegree[child] += 1
    ready = [n for n in nodes if indegree[n] == 0]
    ready.reverse()  # a stack popped from the end keeps the original order for roots
    order: list[N] = []
    while ready:
        node = ready.pop()
        order.append(node)
        children = [c for c in downstream(node)]
        for child in reversed(children):
            indegree[child] -= 1
            if indegree[child] == 0:
                ready.append(child)
    left = [n for n in nodes if indegree[n] > 0]
    return order, left


def find_cycle(start_nodes: Sequence[N], downstream: Callable[[N], Iterable[N]]) -> list[N]:
    """One cycle among ``start_nodes`` (which must contain one), as a closed path."""
    candidates = set(start_nodes)
    colour: dict[N, int] = {}  # 1 = on the current path, 2 = done
    for root in start_nodes:
        if root in colour:
            continue
        path: list[N] = [root]
        iterators = [iter([c for c in downstream(root) if c in candidates])]
        colour[root] = 1
        while iterators:
            child = next(iterators[-1], None)
            if child is None:
                colour[path.pop()] = 2
                iterators.pop()
                continue
            if colour.get(child) == 1:
                return [*path[path.index(child):], child]
            if child not in colour:
                colour[child] = 1
                path.append(child)
                iterators.append(iter([c for c in downstream(child) if c in candidates]))
    raise ValueError("no cycle among the given nodes")
