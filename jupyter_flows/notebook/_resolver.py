"""Python's scope rules for one cell: which scope a bound or loaded name belongs to, and which
loads are reads from the notebook.

``NameResolver`` keeps the stack of scopes and what the cell's top level has bound; the
walker (``_scopes.Walker``) calls it in execution order as it visits the cell's code.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable

from jupyter_flows.notebook._mutations import del_change
from jupyter_flows.notebook.cell_analysis import CellAnalysis, Mutation

__all__ = ["CLASS", "COMPREHENSION", "FUNCTION", "NameResolver", "Scope"]

# IPython puts these into builtins for every cell (InteractiveShell.init_builtins, BuiltinTrap);
# the code IPython generates for magics calls get_ipython().
_IPYTHON_BUILTINS = frozenset({"get_ipython", "display", "__IPYTHON__"})
_BUILTINS = frozenset(dir(builtins)) | _IPYTHON_BUILTINS

FUNCTION, CLASS, COMPREHENSION = "function", "class", "comprehension"

# A name a scope could not resolve: (only read when the code runs later, first change of it).
_Ref = tuple[bool, Mutation | None]


def _merge(refs: dict[str, _Ref], name: str, later: bool, mutation: Mutation | None) -> None:
    old = refs.get(name)
    refs[name] = (later, mutation) if old is None else (old[0] and later, old[1] or mutation)


class Scope:
    """A function, class or comprehension scope on the walker's stack."""

    __slots__ = ("bound", "global_decl", "kind", "later", "nonlocal_decl", "pending")

    def __init__(self, kind: str, bound: Iterable[str] = (), later: bool = False) -> None:
        self.kind = kind
        self.bound: set[str] = set(bound)
        self.later = later  # a function body runs when called, not where it is written
        self.pending: dict[str, _Ref] = {}  # loads resolved when the scope ends
        self.global_decl: set[str] = set()
        self.nonlocal_decl: set[str] = set()


class NameResolver:
    """The scopes open at the walker's position and the cell's bindings and reads so far."""

    def __init__(self) -> None:
        self.stack: list[Scope] = []
        self.defined: set[str] = set()  # bound at the top level so far
        self.ever_bound: set[str] = set()  # bound at the top level anywhere
        self.defines: set[str] = set()
        self.imports: set[str] = set()
        self.reads: set[str] = set()
        self.builtin_reads: set[str] = set()
        self.mutations: dict[str, Mutation] = {}
        self.later: dict[str, _Ref] = {}  # globals loaded by function bodies

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
        return any(scope.kind is FUNCTION and scope.later for scope in self.stack)

    def _load(self, name: str, mutation: Mutation | None = None) -> None:
        if not self.stack:
            self._global_ref(name, False, mutation)
            return
        scope = self.stack[-1]
        if name in scope.global_decl:
            self._global_ref(name, self._in_function(), mutation)
        elif scope.kind is not CLASS:
            _merge(scope.pending, name, False, mutation)
        elif name not in scope.bound:  # a class body reads its own names, then globals
            self._forward(len(self.stack) - 2, name, False, mutation)

    def _forward(self, index: int, name: str, later: bool, mutation: Mutation | None) -> None:
        """Hand an unresolved name outwards; nested scopes do not see class bodies."""
        while index >= 0:
            scope = self.stack[index]
            if scope.kind is not CLASS:
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
            self._load(name, del_change(name))

    def _changed(self, mutation: Mutation | None) -> None:
        """``x.append(1)`` loads ``x``: a read and a change if ``x`` is the notebook's."""
        if mutation is not None:
            self._load(mutation.name, mutation)

    def _pop_scope(self) -> None:
        scope = self.stack.pop()
        for name, (later, mutation) in scope.pending.items():
            if name not in scope.bound and name not in scope.nonlocal_decl:
                self._forward(len(self.stack) - 1, name, later or scope.later, mutation)
