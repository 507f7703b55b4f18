"""Edges between tasks, and the markers that change how an argument is mapped."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jupyter_flows.core.task import Task


@dataclass(frozen=True, slots=True)
class Edge:
    """``upstream`` runs before ``downstream``; with a ``key`` its result is that argument.

    ``mapped`` makes the downstream task run once per element of the upstream result;
    ``flattened`` first concatenates a list of lists into one list.
    """

    upstream: Task
    downstream: Task
    key: str | None = None
    mapped: bool = False
    flattened: bool = False

    @property
    def upstream_task(self) -> Task:
        """Prefect's name for ``upstream``."""
        return self.upstream

    @property
    def downstream_task(self) -> Task:
        """Prefect's name for ``downstream``."""
        return self.downstream

    def __repr__(self) -> str:
        arrow = " -[map]-> " if self.mapped else " -> "
        key = f" ({self.key})" if self.key else ""
        return f"<Edge {self.upstream.slug}{arrow}{self.downstream.slug}{key}>"


class unmapped:  # lowercase: the public name, as in Prefect
    """Pass this argument whole to every mapped child instead of mapping over it."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class flatten:  # lowercase: the public name, as in Prefect
    """Concatenate an upstream list of lists into one list before mapping over it."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value


class mapped:  # lowercase: the public name, as in Prefect
    """Map over this argument in a plain call: ``add(mapped(xs), 1)`` is
    ``add.map(xs, unmapped(1))``."""

    __slots__ = ("value",)

    def __init__(self, value: Any) -> None:
        self.value = value
