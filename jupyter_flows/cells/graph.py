"""The DAG of a notebook's task cells: which cell feeds which names to which.

A cell reads each name from the *nearest earlier* task cell that defines it, so a name may be
redefined down the notebook (``df = load()``, ``df = df.dropna()``, ``df2 = f(df)``) and each
reader gets the definition just above it. Data edges therefore always point down the notebook;
only ``after`` (an order-only edge) can point up, and so only ``after`` can close a cycle.

Names no task cell defines may come from the notebook's own variables (``notebook_names``), but
not a name that a *later* task cell defines: after one run the notebook holds that cell's old
output, and reading it would silently turn the order of the cells upside down.

A loop variable (``for r in rows``) is bound by Python, so a later cell that reads it gets it;
but it is no output of its cell unless one does (``CellNode.private``), and a later cell's loop
variable does not hide the notebook's variable of that name from earlier cells.

Errors (all ``FlowDefinitionError``): ``DuplicateCellError``, ``UnknownCellError`` (an ``after``
that names no task cell), ``UndefinedNameError``, ``CellCycleError`` (a ``CycleError``), and the
analysis errors of ``cell_analysis`` with the cell's name put in front.
"""

from __future__ import annotations

import difflib
import heapq
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from itertools import pairwise
from typing import NamedTuple

from jupyter_flows.cells.analysis import CellAnalysis, CellError, analyze_cell
from jupyter_flows.core.graph import find_cycle
from jupyter_flows.errors import CycleError, FlowDefinitionError

__all__ = [
    "CellCycleError",
    "CellEdge",
    "CellGraph",
    "CellNode",
    "CellSpec",
    "DuplicateCellError",
    "UndefinedNameError",
    "UnknownCellError",
    "build_cell_graph",
]


class DuplicateCellError(FlowDefinitionError):
    """Two task cells of one notebook have the same name."""


class UnknownCellError(FlowDefinitionError):
    """A cell's ``after`` names a cell that is not a task cell of the notebook."""


class UndefinedNameError(FlowDefinitionError):
    """A cell reads a name that no earlier task cell defines and the notebook does not have."""

    def __init__(self, message: str, cell: str, name: str, later_cell: str | None) -> None:
        super().__init__(message)
        self.cell = cell
        self.name = name
        self.later_cell = later_cell


class CellCycleError(CycleError):
    """The cells' ``after`` options close a cycle; ``path`` lists the cells along it."""

    def __init__(self, path: list[str], hops: list[str]) -> None:
        super().__init__("notebook", path)
        self.args = (
            f"task cells form a cycle: {' -> '.join(path)} ({'; '.join(hops)}); "
            "remove the `after` that closes it",
        )


class CellSpec(NamedTuple):
    """A task cell as the notebook has it, in notebook order."""

    name: str
    source: str
    after: tuple[str, ...] = ()  # cells that must run first although no name flows from them


@dataclass(frozen=True)
class CellEdge:
    """``upstream`` runs before ``downstream`` and hands it ``names`` (empty: order only)."""

    upstream: str
    downstream: str
    names: frozenset[str]
    after: bool = False  # asked for by ``downstream``'s ``after``


@dataclass(frozen=True)
class CellNode:
    """One task cell: what it reads and from where, what it defines, what runs before it."""

    name: str
    analysis: CellAnalysis
    inputs: Mapping[str, str]  # name read -> the task cell it comes from
    notebook_inputs: frozenset[str]  # names read from the notebook's own variables
    upstream: tuple[str, ...]  # cells it waits for (data and `after`), in notebook order
    private: frozenset[str] = frozenset()  # loop variables no later cell reads

    @property
    def outputs(self) -> frozenset[str]:
        """What the cell hands on: its defines, less loop variables nobody reads."""
        return self.analysis.defines - self.private


@dataclass(frozen=True)
class CellGraph:
    """The DAG of a notebook's task cells.

    Responsible for:
    - each cell's inputs (and the cell each comes from), notebook inputs and outputs;
    - the edges between cells, with the names that flow along each;
    - an order to run them in, notebook order wherever ``after`` does not say otherwise;
    - warnings about cells that change, in place, an object another cell defined.
    """

    nodes: Mapping[str, CellNode]  # in notebook order
    edges: tuple[CellEdge, ...]
    order: tuple[str, ...]
    warnings: list[str] = field(default_factory=list)

    def __getitem__(self, name: str) -> CellNode:
        return self.nodes[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.nodes)

    def __len__(self) -> int:
        return len(self.nodes)

    def downstream(self, name: str) -> tuple[str, ...]:
        """The cells that wait for ``name``, in notebook order."""
        if name not in self.nodes:
            raise KeyError(name)
        return tuple(edge.downstream for edge in self.edges if edge.upstream == name)


def build_cell_graph(cells: Sequence[CellSpec], notebook_names: Collection[str] = ()) -> CellGraph:
    """Analyse each task cell and link it to the cells it reads from.

    ``cells`` are in notebook order; ``notebook_names`` are the notebook's plain variables, which
    cells may read when no task cell defines them.
    """
    specs = [CellSpec(*cell) for cell in cells]
    positions: dict[str, int] = {}
    for index, spec in enumerate(specs):
        if spec.name in positions:
            raise DuplicateCellError(
                f"two task cells are named {spec.name!r} (task cells {positions[spec.name] + 1} "
                f"and {index + 1}); give each a name of its own"
            )
        positions[spec.name] = index
    for spec in specs:
        for before in spec.after:
            if before not in positions:
                raise UnknownCellError(_unknown_after(spec.name, before, positions))
    analyses = [_analyze(spec) for spec in specs]
    available = frozenset(notebook_names)
    last_definer = {name: i for i, analysis in enumerate(analyses) for name in _real(analysis)}

    nodes: dict[str, CellNode] = {}
    edges: list[CellEdge] = []
    warnings: list[str] = []
    definer: dict[str, str] = {}  # name -> the latest task cell so far that defines it
    for index, (spec, analysis) in enumerate(zip(specs, analyses)):
        inputs: dict[str, str] = {}
        notebook_inputs: set[str] = set()
        for name in sorted(analysis.reads):
            source = definer.get(name)
            if source is not None:
                inputs[name] = source
                continue
            if name in available and last_definer.get(name, -1) <= index:
                notebook_inputs.add(name)
            else:
                later = _later_definer(name, index, specs, analyses)
                raise _undefined(spec.name, name, later, name in available)
        for name in analysis.builtin_reads & definer.keys():
            inputs[name] = definer[name]  # an earlier cell rebound a builtin name

        names_from: dict[str, set[str]] = {}
        for name, source in inputs.items():
            names_from.setdefault(source, set()).add(name)
        after = set(spec.after)
        upstream = sorted(names_from.keys() | after, key=positions.__getitem__)
        edges.extend(
            CellEdge(up, spec.name, frozenset(names_from.get(up, ())), up in after)
            for up in upstream
        )
        nodes[spec.name] = CellNode(
            spec.name, analysis, inputs, frozenset(notebook_inputs), tuple(upstream)
        )
        warnings.extend(_mutation_warnings(spec.name, analysis, inputs, nodes))
        definer.update(dict.fromkeys(analysis.defines, spec.name))

    read_from: dict[str, set[str]] = {}
    for node in nodes.values():
        for name, source in node.inputs.items():
            read_from.setdefault(source, set()).add(name)
    nodes = {name: replace(node, private=node.analysis.loop_names - read_from.get(name, set()))
             for name, node in nodes.items()}
    order = _order(specs, nodes, edges)
    return CellGraph(nodes, tuple(edges), order, warnings)


def _real(analysis: CellAnalysis) -> frozenset[str]:
    """The names a cell defines on purpose: not its loop variables."""
    return analysis.defines - analysis.loop_names


def _analyze(spec: CellSpec) -> CellAnalysis:
    try:
        return analyze_cell(spec.source)
    except CellError as error:
        error.add_cell_name(spec.name)
        raise


def _unknown_after(cell: str, before: str, positions: Mapping[str, int]) -> str:
    message = f"cell {cell!r} is to run after {before!r}, which is not a task cell of the notebook"
    close = difflib.get_close_matches(before, list(positions), n=1)
    return message + (f"; did you mean {close[0]!r}?" if close else "")


def _later_definer(
    name: str, index: int, specs: Sequence[CellSpec], analyses: Sequence[CellAnalysis]
) -> str | None:
    for spec, analysis in zip(specs[index + 1 :], analyses[index + 1 :]):
        if name in _real(analysis):
            return spec.name
    return None


def _undefined(cell: str, name: str, later: str | None, in_notebook: bool) -> UndefinedNameError:
    if later is None:
        message = (
            f"cell {cell!r} reads {name!r}, which no earlier task cell defines "
            "and the notebook does not have"
        )
    elif in_notebook:
        message = (
            f"cell {cell!r} reads {name!r}, which no earlier task cell defines; it is defined by "
            f"the later cell {later!r}, so the notebook's own {name!r} may be that cell's output "
            "from an earlier run; move that cell up"
        )
    else:
        message = (
            f"cell {cell!r} reads {name!r}, which no earlier task cell defines and the notebook "
            f"does not have; it is defined by the later cell {later!r}; move that cell up"
        )
    return UndefinedNameError(message, cell, name, later)


def _mutation_warnings(
    cell: str, analysis: CellAnalysis, inputs: Mapping[str, str], nodes: Mapping[str, CellNode]
) -> Iterator[str]:
    for mutation in analysis.mutations:
        source = inputs.get(mutation.name)
        if source is None:
            origin = "a notebook variable"
        elif mutation.name in nodes[source].analysis.imports:
            continue  # a module: `np.append(a, x)` looks like `rows.append(x)`
        else:
            origin = f"which cell {source!r} defined"
        yield (
            f"cell {cell!r} changes {mutation.name!r} ({mutation.code}), {origin}; when the "
            f"cell runs in another process (local-dask processes, dask, an agent) that change "
            f"is lost: {mutation.advice}"
        )


def _order(
    specs: Sequence[CellSpec], nodes: Mapping[str, CellNode], edges: Sequence[CellEdge]
) -> tuple[str, ...]:
    """Kahn's algorithm taking the earliest ready cell first: notebook order where possible."""
    names = [spec.name for spec in specs]
    position = {name: index for index, name in enumerate(names)}
    downstream: dict[str, list[str]] = {name: [] for name in names}
    for edge in edges:
        downstream[edge.upstream].append(edge.downstream)
    waiting = {name: len(nodes[name].upstream) for name in names}
    ready = [position[name] for name in names if not waiting[name]]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        name = names[heapq.heappop(ready)]
        order.append(name)
        for child in downstream[name]:
            waiting[child] -= 1
            if not waiting[child]:
                heapq.heappush(ready, position[child])
    if len(order) < len(names):
        stuck = [name for name in names if waiting[name]]
        path = find_cycle(stuck, downstream.__getitem__)
        raise CellCycleError(path, [_hop(edges, up, down) for up, down in pairwise(path)])
    return tuple(order)


def _hop(edges: Sequence[CellEdge], up: str, down: str) -> str:
    edge = next(e for e in edges if e.upstream == up and e.downstream == down)
    parts = []
    if edge.names:
        parts.append(f"{down!r} reads {', '.join(map(repr, sorted(edge.names)))} from {up!r}")
    if edge.after:
        parts.append(f"{down!r} is to run after {up!r}")
    return " and ".join(parts)
