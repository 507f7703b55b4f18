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
  ends, so it is not an output of the cell.
- ``del x`` of a name the cell bound removes it from the outputs; ``del x`` of an outside name
  is a read and a change of that name (the notebook loses it), so the graph can warn about it.
- Builtins (and the names IPython adds to them) are not reads. A builtin name loaded before the
  cell binds it goes to ``builtin_reads`` instead, so that an earlier cell that rebinds it
  (``input = load()``) still feeds the cell.
"""

from __future__ import annotations

import ast
import builtins
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, NamedTuple

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

# IPython puts these into builtins for every cell (InteractiveShell.init_builtins, BuiltinTrap);
# the code IPython generates for magics calls get_ipython().
_IPYTHON_BUILTINS = frozenset({"get_ipython", "display", "__IPYTHON__"})
_BUILTINS = frozenset(dir(builtins)) | _IPYTHON_BUILTINS

# %timeit's options that take a value, from IPython's getopt spec "n:r:tcp:qov:".
_TIMEIT_VALUE_OPTIONS = "nrpv"

_OPERATORS: dict[type[ast.operator], str] = {
    ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.MatMult: "@", ast.Div: "/", ast.Mod: "%",
    ast.Pow: "**", ast.LShift: "<<", ast.RShift: ">>", ast.BitOr: "|", ast.BitXor: "^",
    ast.BitAnd: "&", ast.FloorDiv: "//",
}  # fmt: skip

# What to write instead of changing a value in place, by method.
_REBIND_EXAMPLES = {
    "append": "{n} = [*{n}, ...]",
    "extend": "{n} = [*{n}, ...]",
    "insert": "{n} = [..., *{n}]",
    "update": "{n} = {{**{n}, ...}}",
    "setdefault": "{n} = {{**{n}, ...}}",
    "add": "{n} = {n} | {{...}}",
    "sort": "{n} = sorted({n})",
    "reverse": "{n} = {n}[::-1]",
}


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
    tree, parsed = _parse(source)
    walker = _Walker(parsed, lazy_annotations=_has_future_annotations(tree))
    walker.visit_body(tree.body)
    return walker.result()


def _parse(source: str) -> tuple[ast.Module, str]:
    try:
        return _ast_parse(source), source
    except (SyntaxError, ValueError) as error:
        python_error = error
    # Only code that is not Python goes through IPython: plain cells stay fast.
    transformed = _ipython_to_python(source)
    if transformed is None or transformed == source:
        raise _syntax_error(python_error, source) from None
    try:
        return _ast_parse(transformed), transformed
    except (SyntaxError, ValueError) as error:
        raise _syntax_error(error, transformed) from None


def _has_future_annotations(tree: ast.Module) -> bool:
    return any(
        isinstance(node, ast.ImportFrom)
        and node.module == "__future__"
        and any(alias.name == "annotations" for alias in node.names)
        for node in tree.body
    )


def _ast_parse(source: str) -> ast.Module:
    # Invalid escapes like "\d" warn at compile time; the cell reports them when it runs.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(source)


def _ipython_to_python(source: str) -> str | None:
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:
        return None
    try:
        return str(TransformerManager().transform_cell(source))
    except Exception:  # IPython cannot make sense of it either: report Python's own error
        return None


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


def _split_options(line: str, with_value: str) -> tuple[str, dict[str, str]]:
    """Split a magic's leading ``-x`` options from its code, the way IPython's getopt does."""
    options: dict[str, str] = {}
    rest = line.strip()
    while rest.startswith("-"):
        token, rest = _next_word(rest)
        if token.startswith("--"):  # e.g. %time --no-raise-error
            options[token[2:]] = ""
            continue
        flags = token[1:]
        for i, flag in enumerate(flags):
            if flag in with_value:
                value = flags[i + 1 :]
                if not value:
                    value, rest = _next_word(rest)
                options[flag] = value
                break
            options[flag] = ""
    return rest, options


def _next_word(text: str) -> tuple[str, str]:
    parts = text.split(None, 1)
    if not parts:
        return "", ""
    return parts[0], parts[1] if len(parts) == 2 else ""


_FUNCTION, _CLASS, _COMPREHENSION = "function", "class", "comprehension"

# A name a scope could not resolve: (only read when the code runs later, first change of it).
_Ref = tuple[bool, Mutation | None]


def _merge(refs: dict[str, _Ref], name: str, later: bool, mutation: Mutation | None) -> None:
    old = refs.get(name)
    refs[name] = (later, mutation) if old is None else (old[0] and later, old[1] or mutation)


class _Scope:
    """A function, class or comprehension scope on the walker's stack."""

    __slots__ = ("bound", "global_decl", "kind", "later", "nonlocal_decl", "pending")

    def __init__(self, kind: str, bound: Iterable[str] = (), later: bool = False) -> None:
        self.kind = kind
        self.bound: set[str] = set(bound)
        self.later = later  # a function body runs when called, not where it is written
        self.pending: dict[str, _Ref] = {}  # loads resolved when the scope ends
        self.global_decl: set[str] = set()
        self.nonlocal_decl: set[str] = set()


def _root_name(node: ast.expr) -> str | None:
    """``a`` for ``a.b[c].d``; None when the chain starts at a call or a literal."""
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _arguments(args: ast.arguments) -> list[ast.arg]:
    extra = [a for a in (args.vararg, args.kwarg) if a is not None]
    return [*args.posonlyargs, *args.args, *args.kwonlyargs, *extra]


class _Walker(ast.NodeVisitor):
    """Walks one cell in execution order; the top level is the notebook's global scope."""

    def __init__(self, source: str, lazy_annotations: bool = False) -> None:
        self.source = source
        self.lazy_annotations = lazy_annotations  # `from __future__ import annotations`
        self.stack: list[_Scope] = []
        self.defined: set[str] = set()  # bound at the top level so far
        self.ever_bound: set[str] = set()  # bound at the top level anywhere
        self.defines: set[str] = set()
        self.imports: set[str] = set()
        self.reads: set[str] = set()
        self.builtin_reads: set[str] = set()
        self.mutations: dict[str, Mutation] = {}
        self.later: dict[str, _Ref] = {}  # globals loaded by function bodies
        self.template = "{} = ..."  # how the statement being walked changes a target

    # ast.NodeVisitor looks its method up by name on every node; a notebook of a few hundred
    # cells is analysed on each %%task run, so cache the lookup per node type.
    _dispatch: ClassVar[dict[type[ast.AST], Callable[[_Walker, Any], None]]] = {}

    def visit(self, node: ast.AST) -> None:
        kind = type(node)
        if kind not in self._dispatch:
            self._dispatch[kind] = getattr(_Walker, "visit_" + kind.__name__, _Walker.generic_visit)
        self._dispatch[kind](self, node)

    def generic_visit(self, node: ast.AST) -> None:
        for field in node._fields:
            value = getattr(node, field, None)
            if isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.AST):
                        self.visit(item)
            elif isinstance(value, ast.AST):
                self.visit(value)

    def visit_Constant(self, node: ast.Constant) -> None:
        pass

    def result(self) -> CellAnalysis:
        for name, (_, mutation) in self.later.items():
            if name not in self.ever_bound:
                self._outside(name, mutation)
        return CellAnalysis(
            defines=frozenset(self.defines),
            reads=frozenset(self.reads),
            mutates=frozenset(self.mutations),
            builtin_reads=frozenset(self.builtin_reads),
            imports=frozenset(self.imports & self.defines),
            mutations=tuple(self.mutations.values()),
        )

    # -- resolving names ---------------------------------------------------------------

    def _outside(self, name: str, mutation: Mutation | None) -> None:
        if name in _BUILTINS:
            self.builtin_reads.add(name)
            return
        self.reads.add(name)
        if mutation is not None:
            self.mutations.setdefault(name, mutation)

    def _global_ref(self, name: str, later: bool, mutation: Mutation | None) -> None:
        if later:
            _merge(self.later, name, True, mutation)
        elif name not in self.defined:
            self._outside(name, mutation)

    def _in_function(self) -> bool:
        return any(scope.kind is _FUNCTION and scope.later for scope in self.stack)

    def _load(self, name: str, mutation: Mutation | None = None) -> None:
        if not self.stack:
            self._global_ref(name, False, mutation)
            return
        scope = self.stack[-1]
        if name in scope.global_decl:
            self._global_ref(name, self._in_function(), mutation)
        elif scope.kind is not _CLASS:
            _merge(scope.pending, name, False, mutation)
        elif name not in scope.bound:  # a class body reads its own names, then globals
            self._forward(len(self.stack) - 2, name, False, mutation)

    def _forward(self, index: int, name: str, later: bool, mutation: Mutation | None) -> None:
        """Hand an unresolved name outwards; nested scopes do not see class bodies."""
        while index >= 0:
            scope = self.stack[index]
            if scope.kind is not _CLASS:
                _merge(scope.pending, name, later, mutation)
                return
            index -= 1
        self._global_ref(name, later, mutation)

    def _bind(self, name: str, index: int | None = None, imported: bool = False) -> None:
        if index is None:
            index = len(self.stack) - 1
        if index >= 0:
            scope = self.stack[index]
            if name in scope.global_decl:
                self._bind(name, -1, imported)
            elif name not in scope.nonlocal_decl:
                scope.bound.add(name)
            return
        self.defined.add(name)
        self.ever_bound.add(name)
        self.defines.add(name)
        if imported:
            self.imports.add(name)
        else:
            self.imports.discard(name)

    def _unbind(self, name: str) -> None:
        if self.stack:
            self._bind(name)  # `del x` makes x local to a function, like an assignment
        elif name in self.defined:
            self.defined.discard(name)
            self.defines.discard(name)
        else:
            advice = f"leave the del out: a later cell that reads {name!r} still gets it"
            self._load(name, Mutation(name, f"del {name}", advice))

    def _pop_scope(self) -> None:
        scope = self.stack.pop()
        for name, (later, mutation) in scope.pending.items():
            if name not in scope.bound and name not in scope.nonlocal_decl:
                self._forward(len(self.stack) - 1, name, later or scope.later, mutation)

    # -- changes in place -----------------------------------------------------------------

    def _segment(self, node: ast.AST) -> str:
        text = ast.get_source_segment(self.source, node) or ast.unparse(node)
        text = " ".join(text.split())
        return text if len(text) <= 60 else text[:57] + "..."

    def _changed(self, name: str, code: str, example: str) -> None:
        self._load(name, Mutation(name, code, f"assign a new value instead ({example})"))

    def _store_target(self, target: ast.Attribute | ast.Subscript) -> None:
        name = _root_name(target)
        if name is None:
            return
        if isinstance(target, ast.Subscript):
            example = f"{name} = {name}.assign(...)"
        else:
            example = f"{name} = copy.copy({name}), then change the copy"
        self._changed(name, self.template.format(self._segment(target)), example)

    def _call_changes(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute):
            inplace = any(
                kw.arg == "inplace"
                and isinstance(kw.value, ast.Constant)
                and kw.value.value is True
                for kw in node.keywords
            )
            name = _root_name(func.value)
            if name is None or not (inplace or func.attr in MUTATING_METHODS):
                return
            if inplace:
                code = f"{self._segment(func)}(..., inplace=True)"
                example = f"{name} = {name}.{func.attr}(...) without inplace=True"
            else:
                code = f"{self._segment(func)}(...)"
                example = _REBIND_EXAMPLES.get(func.attr, "{n} = ...").format(n=name)
            self._changed(name, code, example)
        elif isinstance(func, ast.Name) and func.id in ("setattr", "delattr") and node.args:
            name = _root_name(node.args[0])
            if name is not None:
                code = f"{func.id}({self._segment(node.args[0])}, ...)"
                self._changed(name, code, f"{name} = copy.copy({name}), then change the copy")

    # -- statements ----------------------------------------------------------------------

    def visit_body(self, body: Sequence[ast.AST]) -> None:
        for node in body:
            self.visit(node)

    def visit_Assign(self, node: ast.Assign) -> None:
        self.visit(node.value)
        for target in node.targets:
            self.template = "{} = ..."
            self.visit(target)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        target = node.target
        if isinstance(target, ast.Name):
            self._load(target.id)
            self.visit(node.value)
            self._bind(target.id)
            return
        self.visit(node.value)
        self.template = "{} " + _OPERATORS.get(type(node.op), "") + "= ..."
        self.visit(target)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        in_function = bool(self.stack) and self.stack[-1].kind is _FUNCTION
        if not (in_function or self.lazy_annotations):  # run at top level and in class bodies
            self.visit(node.annotation)
        if node.value is not None:
            self.visit(node.value)
            self.template = "{} = ..."
            self.visit(node.target)
        elif isinstance(node.target, ast.Name):
            if in_function:  # `x: int` makes x local to the function (PEP 526)
                self._bind(node.target.id)
        else:  # `obj.attr: int` evaluates obj but changes nothing
            for child in ast.iter_child_nodes(node.target):
                self.visit(child)

    def visit_For(self, node: ast.For | ast.AsyncFor) -> None:
        self.visit(node.iter)
        self.template = "{} = ..."
        self.visit(node.target)
        self.visit_body(node.body)
        self.visit_body(node.orelse)

    visit_AsyncFor = visit_For

    def visit_withitem(self, node: ast.withitem) -> None:
        self.visit(node.context_expr)
        if node.optional_vars is not None:
            self.template = "{} = ..."
            self.visit(node.optional_vars)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self.template = "del {}"
            self.visit(target)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._bind(alias.asname or alias.name.partition(".")[0], imported=True)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        for alias in node.names:
            if alias.name == "*":
                module = "." * node.level + (node.module or "")
                raise StarImportError(
                    f"line {node.lineno}: 'from {module} import *' binds names that cannot be "
                    "known without running it, so the cells that need them cannot be found; "
                    f"import the names explicitly ('from {module} import name1, name2')"
                )
            self._bind(alias.asname or alias.name, imported=True)

    def visit_Global(self, node: ast.Global) -> None:
        if self.stack:
            self.stack[-1].global_decl.update(node.names)

    def visit_Nonlocal(self, node: ast.Nonlocal) -> None:
        if self.stack:
            self.stack[-1].nonlocal_decl.update(node.names)

    def visit_ExceptHandler(self, node: ast.ExceptHandler) -> None:
        if node.type is not None:
            self.visit(node.type)
        scope = self.stack[-1] if self.stack else None
        if node.name is None or (scope is not None and scope.kind is _FUNCTION):
            if node.name is not None:
                self._bind(node.name)
            self.visit_body(node.body)
            return
        # Python deletes the name when the handler ends: bound inside it, no output.
        names = self.defined if scope is None else scope.bound
        had = node.name in names
        names.add(node.name)
        self.visit_body(node.body)
        if not had:
            names.discard(node.name)

    # -- definitions ---------------------------------------------------------------------

    def _visit_signature(self, args: ast.arguments, returns: ast.expr | None) -> None:
        for default in [*args.defaults, *args.kw_defaults]:
            if default is not None:
                self.visit(default)
        if self.lazy_annotations:
            return
        for arg in _arguments(args):
            if arg.annotation is not None:
                self.visit(arg.annotation)
        if returns is not None:
            self.visit(returns)

    def _visit_function_body(
        self, args: ast.arguments | None, body: Sequence[ast.AST], later: bool = True
    ) -> None:
        params = [a.arg for a in _arguments(args)] if args is not None else []
        self.stack.append(_Scope(_FUNCTION, params, later=later))
        self.visit_body(body)
        self._pop_scope()

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        self._visit_signature(node.args, node.returns)
        self._visit_function_body(node.args, node.body)
        self._bind(node.name)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._visit_signature(node.args, None)
        self._visit_function_body(node.args, [node.body])

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for expr in [*node.decorator_list, *node.bases, *(k.value for k in node.keywords)]:
            self.visit(expr)
        self.stack.append(_Scope(_CLASS))
        self.visit_body(node.body)
        self.stack.pop()
        self._bind(node.name)

    # -- expressions ---------------------------------------------------------------------

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self._load(node.id)
        elif isinstance(node.ctx, ast.Store):
            self._bind(node.id)
        else:
            self._unbind(node.id)

    def visit_Attribute(self, node: ast.Attribute | ast.Subscript) -> None:
        if not isinstance(node.ctx, ast.Load):
            self._store_target(node)
        self.generic_visit(node)

    visit_Subscript = visit_Attribute

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        index = len(self.stack) - 1
        while index >= 0 and self.stack[index].kind is _COMPREHENSION:
            index -= 1  # PEP 572: the target belongs to the scope around the comprehension
        self._bind(node.target.id, index)

    def _visit_comprehension(
        self, generators: list[ast.comprehension], results: list[ast.expr]
    ) -> None:
        self.visit(generators[0].iter)  # evaluated in the enclosing scope
        self.stack.append(_Scope(_COMPREHENSION))
        for i, generator in enumerate(generators):
            if i:
                self.visit(generator.iter)
            self.template = "{} = ..."
            self.visit(generator.target)
            for condition in generator.ifs:
                self.visit(condition)
        for result in results:
            self.visit(result)
        self._pop_scope()

    def visit_ListComp(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp) -> None:
        self._visit_comprehension(node.generators, [node.elt])

    visit_SetComp = visit_GeneratorExp = visit_ListComp

    def visit_DictComp(self, node: ast.DictComp) -> None:
        self._visit_comprehension(node.generators, [node.key, node.value])

    def visit_Call(self, node: ast.Call) -> None:
        if self._visit_magic(node):
            return
        self._call_changes(node)
        self.generic_visit(node)

    def visit_MatchAs(self, node: ast.MatchAs) -> None:
        if node.pattern is not None:
            self.visit(node.pattern)
        if node.name is not None:
            self._bind(node.name)

    def visit_MatchStar(self, node: ast.MatchStar) -> None:
        if node.name is not None:
            self._bind(node.name)

    def visit_MatchMapping(self, node: ast.MatchMapping) -> None:
        for child in [*node.keys, *node.patterns]:
            self.visit(child)
        if node.rest is not None:
            self._bind(node.rest)

    # -- IPython magics ------------------------------------------------------------------

    def _visit_magic(self, node: ast.Call) -> bool:
        """Analyse the code of ``get_ipython().run_line_magic('time' | 'timeit', code)``."""
        func = node.func
        if not (
            isinstance(func, ast.Attribute)
            and func.attr == "run_line_magic"
            and isinstance(func.value, ast.Call)
            and isinstance(func.value.func, ast.Name)
            and func.value.func.id == "get_ipython"
        ):
            return False
        if len(node.args) != 2:
            return True
        magic, line = (a.value if isinstance(a, ast.Constant) else None for a in node.args)
        if magic not in ("time", "timeit") or not isinstance(line, str):
            return True  # other magics' arguments are strings to us: no names in them
        code, options = _split_options(line, _TIMEIT_VALUE_OPTIONS if magic == "timeit" else "")
        try:
            tree = _ast_parse(code)
        except (SyntaxError, ValueError):
            return True  # IPython reports it when the cell runs
        outer, self.source = self.source, code
        try:
            if magic == "time":
                self.visit_body(tree.body)
            else:  # %timeit compiles the code into a function body and calls it at once
                self._visit_function_body(None, tree.body, later=False)
        finally:
            self.source = outer
        if options.get("v"):
            self._bind(options["v"])  # %timeit -v NAME stores its result in NAME
        return True
