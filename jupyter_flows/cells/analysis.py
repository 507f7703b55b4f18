"""What a ``%%task`` cell defines, reads from outside itself and changes in place, from its source.

Pure ``ast``: nothing runs. One walk over the cell in execution order, with a stack of the scopes
Python creates (function, lambda, class body, comprehension):

- At the cell's top level a load is an outside read unless the cell bound the name *earlier*
  (``x = x + 1`` reads ``x``). Branches are not told apart: a binding anywhere above counts.
- A function or lambda body runs later, when called, so a global it loads is an outside read
  unless the cell binds that name *anywhere*; its parameters and locals (bound anywhere in the
  body, Python's rule) are not reads. ``global``/``nonlocal`` are followed.
- A class body and a comprehension run at once. A comprehension's variables stay inside it; a
  walrus in it binds in the enclosing scope (PEP 572). Generator expressions are treated as run
  where they are written.
- ``except E as e`` binds ``e`` inside the handler only: Python deletes it when the handler
  ends, rebound in the handler or not, so it is not an output of the cell (unless the cell
  bound it before the ``try``), and a later load of ``e`` is an outside read.
- ``del x`` of a name the cell bound removes it from the outputs; ``del x`` of an outside name
  is a read and a change of that name (the notebook loses it), so the graph can warn about it.
  ``global x; del x`` in a function is the same, once the function is called.
- PEP 695 type parameters live in their own scope; bounds and ``type`` alias values are
  evaluated lazily, like a function body. ``__class__`` in a method is the class's own cell.
- Builtins (and the names IPython adds to them) are not reads. A builtin name loaded before the
  cell binds it goes to ``builtin_reads`` instead, so that an earlier cell that rebinds it
  (``input = load()``) still feeds the cell.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from jupyter_flows.cells._ipython_syntax import ast_parse, ipython_to_python
from jupyter_flows.errors import FlowDefinitionError

__all__ = [
    "MUTATING_METHODS",
    "CellAnalysis",
    "CellError",
    "CellSyntaxError",
    "Mutation",
    "StarImportError",
    "analyze_cell",
]

# Methods that change their receiver in place. The analysis never knows a value's type, so this
# is a guess by name: list, dict, set, deque and bytearray methods, plus the numpy and pandas ones
# that work in place (fill, resize, insert/pop/update on a DataFrame). A call with
# ``inplace=True`` (pandas' drop, fillna, rename, ...) counts whatever the method.
MUTATING_METHODS: frozenset[str] = frozenset(
    {
        "add", "append", "appendleft", "clear", "difference_update", "discard", "extend",
        "extendleft", "fill", "insert", "intersection_update", "pop", "popitem", "popleft",
        "remove", "resize", "reverse", "rotate", "setdefault", "sort",
        "symmetric_difference_update", "update",
    }
)  # fmt: skip


class CellError(FlowDefinitionError):
    """A task cell's source cannot be analysed; ``cell`` names it once the graph knows it."""

    cell: str | None = None

    def add_cell_name(self, cell: str) -> None:
        """Put the cell's name in front of the message (the notebook graph does this)."""
        self.cell = cell
        self.args = (f"cell {cell!r}: {self.args[0]}", *self.args[1:])


class CellSyntaxError(CellError):
    """The cell is not valid Python, even once IPython's magics are turned into calls."""

    def __init__(self, message: str, lineno: int | None = None, offset: int | None = None) -> None:
        super().__init__(message)
        self.lineno = lineno
        self.offset = offset


class StarImportError(CellError):
    """``from m import *``: the names it binds cannot be known without running it."""


class Mutation(NamedTuple):
    """One in-place change of an outside name: the code that does it and what to do instead."""

    name: str
    code: str  # e.g. 'df["x"] = ...'
    advice: str  # e.g. 'assign a new value instead (df = df.assign(...))'


@dataclass(frozen=True)
class CellAnalysis:
    """The names a cell defines (its outputs) and reads from outside (its inputs).

    ``defines, reads = analyze_cell(src)`` unpacks the two that build the graph.
    """

    defines: frozenset[str]
    reads: frozenset[str]
    mutates: frozenset[str] = frozenset()
    builtin_reads: frozenset[str] = frozenset()  # builtin names read before the cell binds them
    imports: frozenset[str] = frozenset()  # the defines bound by an import statement
    mutations: tuple[Mutation, ...] = ()  # the first change of each name in ``mutates``
    # defines bound only as a for loop's variable: outputs only when a later cell reads them
    loop_names: frozenset[str] = frozenset()

    def __iter__(self) -> Iterator[frozenset[str]]:
        yield self.defines
        yield self.reads


def analyze_cell(source: str) -> CellAnalysis:
    """Analyse one cell's source (without its ``%%task`` line); line numbers count from 1.

    IPython syntax (``%time y = f(x)``, ``!ls``, ``a = !ls``, ``x?``) is turned into Python by
    IPython's own input transformer when IPython is installed. The generated
    ``get_ipython().run_line_magic(...)`` calls pass their argument as a string, which says
    nothing about names; for ``%time`` and ``%timeit`` that string is code run in the notebook's
    namespace, so it is analysed too (``%time`` like cell code; ``%timeit`` like a function
    body, except that ``-v NAME`` defines NAME). Other magics are opaque.

    Raises ``CellSyntaxError`` (with line, column and the offending line) and ``StarImportError``.
    """
    # The walker builds this module's Mutation and CellAnalysis, so it imports them from here;
    # importing it in turn at call time keeps either module importable first.
    from jupyter_flows.cells._scopes import Walker

    tree, parsed = _parse(source)
    walker = Walker(parsed, lazy_annotations=_has_future_annotations(tree))
    walker.visit_body(tree.body)
    return walker.result()


def _parse(source: str) -> tuple[ast.Module, str]:
    try:
        return ast_parse(source), source
    except (SyntaxError, ValueError) as error:
        python_error = error
    # Only code that is not Python goes through IPython: plain cells stay fast.
    transformed = ipython_to_python(source)
    if transformed is None or transformed == source:
        raise _syntax_error(python_error, source) from None
    try:
        return ast_parse(transformed), transformed
    except (SyntaxError, ValueError) as error:
        raise _syntax_error(error, transformed) from None


def _has_future_annotations(tree: ast.Module) -> bool:
    return any(
        isinstance(node, ast.ImportFrom)
        and node.module == "__future__"
        and any(alias.name == "annotations" for alias in node.names)
        for node in tree.body
    )


def _syntax_error(error: SyntaxError | ValueError, source: str) -> CellSyntaxError:
    if not isinstance(error, SyntaxError):  # e.g. null bytes in the source
        return CellSyntaxError(f"cannot parse the cell: {error}")
    lineno, offset = error.lineno, error.offset
    if lineno is None:
        return CellSyntaxError(f"syntax error: {error.msg}")
    where = f"line {lineno}, column {offset}" if offset else f"line {lineno}"
    message = f"syntax error at {where}: {error.msg}"
    lines = source.splitlines()
    if 0 < lineno <= len(lines) and lines[lineno - 1].strip():
        message += f"\n    {lines[lineno - 1]}"
        if offset:
            message += "\n    " + " " * (offset - 1) + "^"
    return CellSyntaxError(message, lineno, offset)
