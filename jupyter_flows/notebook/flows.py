"""The flows of one notebook: ``%%task`` cells registered by name, and flows built by ``%%flow``.

A cell flow keeps its task cells in the order they were first registered; re-registering a
cell (by name, or by the notebook's cell id when the frontend sends one) replaces it in place.
Building the flow (for ``%flow show``, ``run`` or ``submit``) runs ``build_cell_graph`` over
those cells, with the notebook's variables that no task cell defines as the names cells may
also read, and turns each cell into a :class:`CellTask`:

- an edge from the upstream cell carries the names that flow along it; its key is those names
  (``"df"``, ``"X, y"``) and its value the upstream cell's whole :class:`CellOutputs`;
- each notebook variable a cell reads is bound to its task as a constant, with the value it
  has when the flow is built (``--param NAME=VALUE`` replaces it for one run);
- caching: ``cache_key`` is ``notebook-cell/<flow>/<cell>/<hash of the source>`` and the
  validator is ``all_inputs``, so a run reuses the outputs of a cell whose source and inputs
  (upstream outputs and notebook variables, by dask token) are unchanged.

The ``Flow`` object of a cell flow is kept and refilled on every build, so settings made on it
(run config, executor, storage: ``%flow config``) last, and views holding it stay current.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

from jupyter_flows.cells.analysis import (
    CellAnalysis,
    CellError,
    CellSyntaxError,
    analyze_cell,
)
from jupyter_flows.cells.graph import CellGraph, CellSpec, build_cell_graph
from jupyter_flows.cells.tasks import CellTask, cell_filename, source_hash
from jupyter_flows.core.flow import Flow
from jupyter_flows.errors import FlowDefinitionError, JupyterFlowsError, ParameterError
from jupyter_flows.notebook.naming import DEFAULT_FLOW

__all__ = [
    "DEFAULT_FLOW",
    "BuiltCellFlow",
    "CellFlow",
    "CellOptions",
    "NotebookFlowError",
    "NotebookFlows",
    "Registration",
    "TaskCell",
    "notebook_names",
]

_CELL_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$")
# IPython's own variables: output history (_, __, _3), input history (_i, _ii, _i3), dunders.
_IPYTHON_NAME = re.compile(r"^(_+|_i+|_i\d+|_\d+|_[ido]h|__\w+__)$")


class NotebookFlowError(JupyterFlowsError):
    """A notebook flow command names a flow or cell that does not exist, or cannot be used."""


def notebook_names(namespace: Mapping[str, Any], hidden: Mapping[str, Any]) -> set[str]:
    """The user's variables: not IPython's (history, ``In``/``Out``, ``get_ipython``...)."""
    return {
        name for name, value in namespace.items()
        if not _IPYTHON_NAME.match(name)
        and not (name in hidden and hidden[name] is value)
    }


@dataclass(frozen=True)
class CellOptions:
    """The task options of a ``%%task`` line."""

    retries: int = 0
    retry_delay: float = 0.0
    timeout: float | None = None
    after: tuple[str, ...] = ()
    cache: bool = True
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class TaskCell:
    """A registered ``%%task`` cell. ``source`` is what runs: the ``%%task`` line as a comment,
    then the body (IPython syntax turned into Python), so line numbers match the notebook's."""

    name: str
    flow: str
    line: str  # the %%task line without "%%task"
    body: str
    source: str
    analysis: CellAnalysis
    options: CellOptions
    cell_id: str | None = None
    auto_named: bool = False

    @property
    def written(self) -> str:
        """The source as written (IPython syntax and all), with the same line numbers."""
        return written_source(self.line, self.body)

    @property
    def source_hash(self) -> str:
        return source_hash(self.body)

    @property
    def cache_key(self) -> str:
        return f"notebook-cell/{self.flow}/{self.name}/{self.source_hash}"


@dataclass
class BuiltCellFlow:
    """A cell flow built for one command: the flow, its cell graph and the task of each cell."""

    flow: Flow
    graph: CellGraph
    tasks: dict[str, CellTask]
    constants: dict[str, dict[str, Any]]  # cell -> the notebook variables bound to it


@dataclass
class CellFlow:
    """The task cells of one flow, in registration order, and the Flow they are built into."""

    name: str
    cells: dict[str, TaskCell] = field(default_factory=dict)
    flow: Flow | None = None

    def specs(self) -> list[CellSpec]:
        return [CellSpec(c.name, c.written, c.options.after) for c in self.cells.values()]

    def graph(self, available: Collection[str]) -> CellGraph:
        """The cells' DAG; raises the graph's errors (undefined names, cycles, unknown cells)."""
        defined = {n for c in self.cells.values() for n in c.analysis.defines}
        return build_cell_graph(self.specs(), set(available) - defined)

    def build(self, namespace: Mapping[str, Any], available: Collection[str],
              overrides: Mapping[str, Any] | None = None) -> BuiltCellFlow:
        """Turn the cells into tasks of this flow's ``Flow``, with the notebook's values."""
        overrides = dict(overrides or {})
        graph = self.graph(set(available) | set(overrides))
        read = {name for node in graph.nodes.values() for name in node.notebook_inputs}
        unknown = sorted(set(overrides) - read)
        if unknown:
            raise ParameterError(
                f"flow {self.name!r} has no notebook input {', '.join(map(repr, unknown))};"
                " its task cells read these notebook variables:"
                f" {', '.join(sorted(read)) or 'none'}"
            )
        flow = self._empty_flow()
        tasks: dict[str, CellTask] = {}
        for name in graph.order:
            cell = self.cells[name]
            upstream = {_edge_key(e.names): e.names for e in graph.edges
                        if e.downstream == name and e.names}
            options = cell.options
            task = CellTask(
                name, cell.source, graph[name].outputs, upstream, cache=options.cache,
                cache_key=cell.cache_key, tags=options.tags, max_retries=options.retries,
                retry_delay=options.retry_delay, timeout=options.timeout,
            )
            flow.add_task(task)
            tasks[name] = task
        for edge in graph.edges:
            key = _edge_key(edge.names) if edge.names else None
            flow.add_edge(tasks[edge.upstream], tasks[edge.downstream], key=key)
        constants: dict[str, dict[str, Any]] = {}
        for name, node in graph.nodes.items():
            values = {var: overrides[var] if var in overrides else namespace[var]
                      for var in sorted(node.notebook_inputs)}
            if values:
                # set directly, not with bind_input: a notebook variable that holds a Task is
                # a value for the cell, not an upstream task
                flow.constants[tasks[name]] = values
                constants[name] = values
        return BuiltCellFlow(flow, graph, tasks, constants)

    def flow_object(self) -> Flow:
        """The ``Flow`` this cell flow is built into (its settings live there)."""
        if self.flow is None:
            self.flow = Flow(self.name)
        return self.flow

    def _empty_flow(self) -> Flow:
        """This flow's ``Flow`` object, emptied; its settings (executor, storage...) stay."""
        old = self.flow_object()
        fresh = Flow(self.name, result=old.result, storage=old.storage,
                     run_config=old.run_config, executor=old.executor,
                     state_handlers=old.state_handlers, schedule=old.schedule)
        vars(old).update(vars(fresh))
        return old


def _edge_key(names: Collection[str]) -> str:
    return ", ".join(sorted(names))


@dataclass
class Registration:
    """What registering a cell did, for the one-line summary."""

    cell: TaskCell
    graph: CellGraph | None
    problem: str | None  # why the flow cannot be built right now
    notes: list[str]


class NotebookFlows:
    """The flows of one notebook (one IPython shell).

    Responsible for:
    - registering ``%%task`` cells (names, re-registration in place, renames by cell id);
    - keeping the flows ``%%flow`` cells built;
    - building a cell flow with the notebook's current values.
    """

    def __init__(self) -> None:
        self.default_flow = DEFAULT_FLOW  # where cells without --flow go (the magics set it)
        self.cell_flows: dict[str, CellFlow] = {}
        self.flows: dict[str, Flow] = {}  # built by %%flow
        self._by_cell_id: dict[str, tuple[str, str]] = {}  # notebook cell id -> (flow, cell)

    # ---------------------------------------------------------------------- names
    def names(self) -> list[str]:
        return [*self.cell_flows, *self.flows]

    def resolve(self, name: str | None) -> str:
        """The flow a command means: ``name``, else the default flow (named after the
        notebook), else "notebook", else the only flow there is."""
        known = self.names()
        if name is not None:
            if name not in known:
                raise NotebookFlowError(
                    f"no flow named {name!r} in this notebook; "
                    + (f"its flows are: {', '.join(known)}" if known else
                       "define one with %%task cells or a %%flow cell")
                )
            return name
        for default in (self.default_flow, DEFAULT_FLOW):
            if default in known:
                return default
        if len(known) == 1:
            return known[0]
        if not known:
            raise NotebookFlowError(
                "this notebook has no flows yet: register %%task cells or build one with %%flow"
            )
        raise NotebookFlowError(f"which flow? this notebook has: {', '.join(known)}")

    # ----------------------------------------------------------------- %%task
    def register(self, *, name: str | None, flow: str, line: str, body: str,
                 options: CellOptions, available: Collection[str], cell_id: str | None = None,
                 execution_count: int | None = None) -> Registration:
        """Register (or replace) a task cell; raises ``CellError`` and keeps the old version
        when the source cannot be analysed or compiled."""
        if flow in self.flows:
            raise NotebookFlowError(
                f"flow {flow!r} was built by a %%flow cell; give the task cells another flow"
                " (--flow NAME), or `%flow clear` it first"
            )
        known = self._by_cell_id.get(cell_id) if cell_id else None
        auto = name is None
        if name is None:
            name = known[1] if known else self._fresh_name(execution_count)
        if not _CELL_NAME.match(name):
            raise NotebookFlowError(
                f"{name!r} is not a cell name: use letters, digits, '_', '-' and '.'"
            )
        source = written_source(line, body)
        try:
            analysis = analyze_cell(source)
            python = _python_source(source, name)
        except CellError as error:
            error.add_cell_name(name)
            raise
        cell = TaskCell(name, flow, line, body, python, analysis, options, cell_id, auto)
        notes = self._place(cell, known)
        if cell_id:
            self._by_cell_id[cell_id] = (flow, name)
        cell_flow = self.cell_flows[flow]
        try:
            graph: CellGraph | None = cell_flow.graph(available)
            problem = None
        except FlowDefinitionError as error:
            graph, problem = None, str(error)
        return Registration(cell, graph, problem, notes)

    def _fresh_name(self, execution_count: int | None) -> str:
        taken = {name for f in self.cell_flows.values() for name in f.cells}
        base = f"cell-{execution_count or len(taken) + 1}"
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}-{n}"
        return name

    def _place(self, cell: TaskCell, known: tuple[str, str] | None) -> list[str]:
        """Put ``cell`` in its flow: in place of its earlier version, else at the end.

        ``known`` is where the same notebook cell was registered before (by cell id): a new
        name there is a rename (same position), a new flow a move.
        """
        notes: list[str] = []
        target = self.cell_flows.setdefault(cell.flow, CellFlow(cell.flow))
        position = cell.name  # the entry the cell takes the place of
        if known is not None and known != (cell.flow, cell.name):
            old_flow, old_name = known
            if old_flow == cell.flow and old_name in target.cells:
                position = old_name
                notes.append(f"renamed from {old_name!r}")
            elif old_flow != cell.flow and old_name in self._cells_of(old_flow):
                self._drop(old_flow, old_name)
                notes.append(f"moved from flow {old_flow!r}")
        same_name = target.cells.get(cell.name)
        if same_name is not None and (
            position != cell.name
            or (same_name.cell_id and cell.cell_id and same_name.cell_id != cell.cell_id)
        ):
            notes.append(f"replaces the cell {cell.name!r} registered from another notebook cell")
        if position != cell.name:
            target.cells.pop(cell.name, None)
        if position in target.cells:
            target.cells = {(cell.name if k == position else k): (cell if k == position else v)
                            for k, v in target.cells.items()}
        else:
            target.cells[cell.name] = cell
        return notes

    def _cells_of(self, flow: str) -> dict[str, TaskCell]:
        cell_flow = self.cell_flows.get(flow)
        return cell_flow.cells if cell_flow is not None else {}

    def _drop(self, flow: str, cell: str) -> None:
        cell_flow = self.cell_flows[flow]
        cell_flow.cells.pop(cell, None)
        if not cell_flow.cells:
            del self.cell_flows[flow]

    def remove_cell(self, cell: str, flow: str | None = None) -> str:
        """Forget a task cell (its notebook cell was deleted); returns its flow's name."""
        flows = [flow] if flow is not None else [f for f, cf in self.cell_flows.items()
                                                 if cell in cf.cells]
        for name in flows:
            cell_flow = self.cell_flows.get(name)
            if cell_flow is not None and cell in cell_flow.cells:
                self._drop(name, cell)
                self._by_cell_id = {k: v for k, v in self._by_cell_id.items()
                                    if v != (name, cell)}
                return name
        where = f" in flow {flow!r}" if flow is not None else ""
        raise NotebookFlowError(f"no task cell named {cell!r}{where}")

    # ------------------------------------------------------------------ %%flow
    def add_flow(self, flow: Flow) -> None:
        """Keep a flow a ``%%flow`` cell built; settings of its previous version carry over."""
        if flow.name in self.cell_flows:
            raise NotebookFlowError(
                f"flow {flow.name!r} is made of %%task cells; name the %%flow cell's flow"
                " differently, or `%flow clear` it first"
            )
        old = self.flows.get(flow.name)
        if old is not None:
            for attr in ("result", "storage", "run_config", "executor", "schedule"):
                if getattr(flow, attr) is None:
                    setattr(flow, attr, getattr(old, attr))
        self.flows[flow.name] = flow

    # ----------------------------------------------------------------- clear
    def clear(self, name: str | None = None) -> list[str]:
        """Forget one flow, or all of them; returns the names forgotten."""
        names = [name] if name is not None else self.names()
        for n in names:
            if n not in self.cell_flows and n not in self.flows:
                raise NotebookFlowError(f"no flow named {n!r} in this notebook")
            self.cell_flows.pop(n, None)
            self.flows.pop(n, None)
            self._by_cell_id = {k: v for k, v in self._by_cell_id.items() if v[0] != n}
        return names


def written_source(line: str, body: str) -> str:
    """The cell as analysed and run: its ``%%task`` line as a comment, so the body's line
    numbers are the notebook's (the ``%%task`` line is line 1), then the body."""
    return f"# %%task {line.strip()}\n{body}"


def _python_source(source: str, name: str) -> str:
    """``source`` as Python that compiles (IPython syntax turned into calls)."""
    try:
        _compile(source, name)
        return source
    except SyntaxError as error:
        first = error
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        transformed = str(TransformerManager().transform_cell(source))
        _compile(transformed, name)
        return transformed
    except Exception:  # report Python's own error for the cell as written
        pass
    where = f" at line {first.lineno}" if first.lineno else ""
    raise CellSyntaxError(f"syntax error{where}: {first.msg}", first.lineno, first.offset)


def _compile(source: str, name: str) -> None:
    import warnings

    # invalid escapes like "\d" warn at compile time; the cell reports them when it runs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compile(source, cell_filename(name), "exec", dont_inherit=True)

