"""The whole cell-analysis case table, judged by Python's own ``symtable``.

symtable is the compiler's scope analysis, so where it can judge a row, the row (and
``analyze_cell``) must give its answer. How its answer maps onto a row:

- **defines**: the names the cell's top-level table binds (``is_assigned`` or ``is_imported``),
  plus the names a nested table declares ``global`` and binds (``global conn; conn = ...``).
- **reads**: the names any of the cell's tables references (``is_referenced``) as a global
  (``is_global``), less the defines and less the builtins (Python's and the three IPython
  adds): a builtin is no notebook read. Free names (closures, the ``__class__`` cell) resolve
  inside the cell, so they never count. Python 3.12+: a table that can see its class (it lists
  ``__classdict__``, as annotation scopes in a class body do) finds a name the class binds
  there before the globals (PEP 695), so that name is not a read either.
- IPython syntax goes through IPython's own transformer first, as in ``analyze_cell``.
- **mutates** is not judged: symtable knows nothing of in-place changes.

What symtable cannot judge (``NOT_JUDGED``, each with the reason) is mostly order in time: a
read before the cell binds the name (``x = x + 1``), a ``del`` or the end of an except handler
unbinding a name; besides, annotations that bind or read nothing at run time (``n: int``, a
local variable's annotation), and code inside a magic's string. The test
of that list asserts symtable's answer really differs for each row, so nothing hides there.
On Python 3.12+ symtable shows comprehensions inlined into the scope around them (PEP 709), so
rows with a comprehension are judged on older interpreters only.
"""

from __future__ import annotations

import ast
import builtins
import symtable
import sys
import warnings

import pytest
from cell_cases import CASES

from jupyter_flows.cells._ipython_syntax import ast_parse, ipython_to_python
from jupyter_flows.cells.analysis import analyze_cell

BUILTINS = frozenset(dir(builtins)) | {"get_ipython", "display", "__IPYTHON__"}

_READ_FIRST = "reads a name before the cell binds it; symtable only says the cell binds it"
_DEL = "symtable counts `del x` as a binding; it does not know that del removes the name"
_HANDLER = (
    "Python deletes an except handler's name when the handler ends; symtable only records "
    "that the name is bound"
)
_MAGIC_CODE = (
    "the code of %time/%timeit is a string argument of the call IPython generates; symtable "
    "sees only the call"
)

NOT_JUDGED: dict[str, str] = {
    "read-before-assign": _READ_FIRST,
    "read-then-assign-later": _READ_FIRST,
    "augmented": _READ_FIRST,
    "swap": _READ_FIRST,
    "for-accumulate": _READ_FIRST,
    "class-body-read-before-bind": "the same in a class body, which runs at once: "
    + _READ_FIRST,
    "annotated-without-value": "symtable marks an annotated name local, but `n: int` binds "
    "nothing",
    "del-own-name": _DEL,
    "del-outside-name": _DEL,
    "global-del-in-function": _DEL,
    "global-del-in-class-body": _DEL,
    "except-name-stays-in-handler": _HANDLER,
    "except-name-kept-by-assignment": _HANDLER,
    "except-name-rebound-in-handler": _HANDLER,
    "except-name-read-after-handler": _HANDLER,
    "except-name-global-in-function": _HANDLER,
    "except-star-name-rebound": _HANDLER,
    "except-name-in-class-body": _HANDLER,
    "except-name-read-by-function-in-handler": _HANDLER,
    "type-annotation-only-in-function": "symtable records the names in a local variable's "
    "annotation, which Python never evaluates (PEP 526)",
    "magic-time": _MAGIC_CODE,
    "magic-time-expression-value": _MAGIC_CODE,
    "magic-timeit-options": _MAGIC_CODE,
    "magic-timeit-locals-stay-inside": _MAGIC_CODE,
    "magic-timeit-save-result": _MAGIC_CODE,
    "magic-inside-function": _MAGIC_CODE,
}

_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)


def python_source(source: str) -> str:
    """The cell as Python: IPython syntax through IPython's transformer, as analyze_cell does."""
    try:
        ast_parse(source)
    except SyntaxError:
        transformed = ipython_to_python(source)
        if transformed is None:
            pytest.skip("IPython is not installed, so its syntax cannot be turned into Python")
        return transformed
    return source


def _binds(symbol: symtable.Symbol) -> bool:
    return symbol.is_assigned() or symbol.is_imported()


def _tables(table: symtable.SymbolTable) -> list[symtable.SymbolTable]:
    found = [table]
    for child in table.get_children():
        found.extend(_tables(child))
    return found


def _globals_read(
    table: symtable.SymbolTable, class_names: frozenset[str] = frozenset()
) -> set[str]:
    names = {symbol.get_name() for symbol in table.get_symbols()}
    sees_class = "__classdict__" in names
    reads = {
        symbol.get_name()
        for symbol in table.get_symbols()
        if symbol.is_referenced()
        and symbol.is_global()
        and not (sees_class and symbol.get_name() in class_names)
    }
    if table.get_type() == "class":
        class_names = frozenset(s.get_name() for s in table.get_symbols() if _binds(s))
    for child in table.get_children():
        reads |= _globals_read(child, class_names)
    return reads


def symtable_answer(source: str) -> tuple[set[str], set[str]]:
    """(defines, reads) of a cell as Python's symtable sees them; see the module docstring."""
    with warnings.catch_warnings():  # invalid escapes like "\d" warn; the cell runs anyway
        warnings.simplefilter("ignore")
        top = symtable.symtable(python_source(source), "<cell>", "exec")
    defines = {s.get_name() for s in top.get_symbols() if _binds(s)}
    for table in _tables(top)[1:]:
        symbols = table.get_symbols()
        defines |= {s.get_name() for s in symbols if s.is_declared_global() and _binds(s)}
    reads = _globals_read(top) - defines - BUILTINS
    return defines, reads


def _skip_if_inlined(source: str) -> None:
    if sys.version_info >= (3, 12) and any(
        isinstance(node, _COMPREHENSIONS) for node in ast.walk(ast_parse(python_source(source)))
    ):
        pytest.skip(
            "symtable of Python 3.12+ shows comprehensions inlined into the scope around them "
            "(PEP 709), so it cannot judge their scope; judged on 3.11 and older"
        )


JUDGED = [case for case in CASES if case.id not in NOT_JUDGED]
UNJUDGED = [
    pytest.param(*case.values, NOT_JUDGED[case.id], id=case.id, marks=case.marks)
    for case in CASES
    if case.id in NOT_JUDGED
]


@pytest.mark.parametrize(("source", "defines", "reads", "mutates"), JUDGED)
def test_symtable_agrees(
    source: str, defines: set[str], reads: set[str], mutates: set[str]
) -> None:
    _skip_if_inlined(source)
    judged = symtable_answer(source)
    assert judged == (defines, reads)
    analysis = analyze_cell(source)
    assert judged == (analysis.defines, analysis.reads)


@pytest.mark.parametrize(("source", "defines", "reads", "mutates", "reason"), UNJUDGED)
def test_symtable_really_cannot_judge(
    source: str, defines: set[str], reads: set[str], mutates: set[str], reason: str
) -> None:
    """A row is only left out when symtable's answer differs from Python's behaviour."""
    _skip_if_inlined(source)
    assert symtable_answer(source) != (defines, reads), reason


def test_not_judged_rows_exist_and_most_rows_are_judged() -> None:
    ids = {case.id for case in CASES}
    assert set(NOT_JUDGED) <= ids
    assert len(JUDGED) >= 3 * len(NOT_JUDGED)


def test_symtable_answer_sees_scopes() -> None:
    """The judge itself: it can tell a read from a binding and a global from a closure."""
    assert symtable_answer("y = f(x)") == ({"y"}, {"f", "x"})
    assert symtable_answer("def f():\n    return g + len(h)") == ({"f"}, {"g", "h"})
    closure = "def o():\n    n = 1\n    def i():\n        return n\n"
    assert symtable_answer(closure) == ({"o"}, set())
    assert symtable_answer("def s():\n    global c\n    c = 1") == ({"s", "c"}, set())
