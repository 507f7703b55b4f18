"""Python's scope rules for one cell: which scope a bound or loaded name belongs to, and which
loads are reads from the notebook.

``NameResolver`` keeps the stack of scopes and what the cell's top level has bound; the
walker (``_scopes.Walker``) calls it in execution order as it visits the cell's code. Beyond
the plain function/class/comprehension rules:

- ``global x`` then ``del x`` in a function deletes the notebook's ``x`` when it is called: a
  read and a change of ``x``, not a definition.
- Methods (any scope nested in a class body) see ``__class__``, the implicit closure cell that
  zero-argument ``super()`` uses; it is never a notebook read.
- Annotation scopes (PEP 695: type parameters, TypeVar bounds, ``type`` alias values) bind
  their type parameters; directly inside a class body they also see the class's names, which
  the function and class bodies nested in them do not.
- A loop variable holds the items of what the loop goes over (``for row in rows``), so a change
  through it (``row["x"] = 1``) is a change of ``rows``: each scope keeps which of its names
  are such aliases, until the name is bound to something else.
- A name the cell's top level binds only as a loop variable is a ``loop_name``: Python binds
  it, but it is an output only if a later cell reads it (the graph decides).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterable

from jupyter_flows.cells._mutations import del_change, loop_change
from jupyter_flows.cells.analysis import CellAnalysis, Mutation

__all__ = ["ANNOTATION", "CLASS", "COMPREHENSION", "FUNCTION", "NameResolver", "Scope"]

# IPython puts these into builtins for every cell (InteractiveShell.init_builtins, BuiltinTrap);
# the code IPython generates for magics calls get_ipython().
_IPYTHON_BUILTINS = frozenset({"get_ipython", "display", "__IPYTHON__"})
_BUILTINS = frozenset(dir(builtins)) | _IPYTHON_BUILTINS

FUNCTION, CLASS, COMPREHENSION = "function", "class", "comprehension"
ANNOTATION = "annotation"  # PEP 695 annotation scopes

# A name a scope could not resolve: (only read when the code runs later, first change of it).
_Ref = tuple[bool, Mutation | None]
# A loop variable: the names whose items it holds, and the loop's text (``for row in rows``),
# made only when a warning needs it (source segments are slow to cut).
_Alias = tuple[tuple[str, ...], Callable[[], str]]


def _merge(refs: dict[str, _Ref], name: str, later: bool, mutation: Mutation | None) -> None:
    old = refs.get(name)
    refs[name] = (later, mutation) if old is None else (old[0] and later, old[1] or mutation)


class Scope:
    """A function, class, comprehension or annotation scope on the walker's stack."""

    __slots__ = ("aliases", "bound", "deep", "global_decl", "kind", "later", "nonlocal_decl",
                 "pending")

    def __init__(self, kind: str, bound: Iterable[str] = (), later: bool = False) -> None:
        self.kind = kind
        self.bound: set[str] = set(bound)
        self.later = later  # a function body runs when called, not where it is written
        self.pending: dict[str, _Ref] = {}  # loads resolved when the scope ends
        # An annotation scope's loads that come from the function or class bodies in it: unlike
        # its own, these do not see the names of a class the annotation scope is in.
        self.deep: dict[str, _Ref] = {}
        self.global_decl: set[str] = set()
        self.nonlocal_decl: set[str] = set()
        self.aliases: dict[str, _Alias] = {}


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
        self.aliases: dict[str, _Alias] = {}  # the top level's loop variables
        self.loop_target = False  # the walker is binding a for loop's target
        self.loop_bound: set[str] = set()  # top-level names a for target binds
        self.plain_bound: set[str] = set()  # top-level names bound any other way

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
            loop_names=frozenset((self.loop_bound - self.plain_bound) & self.defines),
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

    def _forward(
        self,
        index: int,
        name: str,
        later: bool,
        mutation: Mutation | None,
        sees_class: bool = False,
    ) -> None:
        """Hand an unresolved name outwards; nested scopes do not see class bodies, except for
        ``__class__`` and, with ``sees_class``, an annotation scope directly in the class."""
        while index >= 0:
            scope = self.stack[index]
            if scope.kind is not CLASS:
                deep = scope.kind is ANNOTATION and not sees_class
                _merge(scope.deep if deep else scope.pending, name, later, mutation)
                return
            if name == "__class__" or (sees_class and name in scope.bound):
                return
            sees_class = False
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
                scope.aliases.pop(name, None)
            return
        self.aliases.pop(name, None)
        (self.loop_bound if self.loop_target else self.plain_bound).add(name)
        self.defined.add(name)
        self.ever_bound.add(name)
        self.defines.add(name)
        if imported:
            self.imports.add(name)
        else:
            self.imports.discard(name)

    def _unbind(self, name: str) -> None:
        scope = self.stack[-1] if self.stack else None
        if scope is not None and name not in scope.global_decl:
            self._bind(name)  # `del x` makes x local to a function, like an assignment
        elif scope is not None and self._in_function():
            # `global x; del x` runs when the function is called: it needs x and removes it
            _merge(self.later, name, True, del_change(name))
        elif name in self.defined:
            self.defined.discard(name)
            self.defines.discard(name)
        else:
            self._outside(name, del_change(name))

    def _handler_names(self, name: str) -> set[str] | None:
        """Where ``except ... as name`` binds ``name``, when Python's deleting it at the end of
        the handler changes what the cell binds: the cell's top level or a class body.

        A function's local stays local to it either way, so it gives None.
        """
        scope = self.stack[-1] if self.stack else None
        if scope is None or name in scope.global_decl:
            return self.defined
        if scope.kind is CLASS:
            return scope.bound
        return None

    def _handler_ended(self, name: str, names: set[str], had: bool) -> None:
        """The handler's name is gone on every path through the handler, rebound in it or not;
        a binding from before the ``try`` stays, for the path that raised nothing."""
        if had:
            return
        names.discard(name)
        if names is self.defined:
            self.defines.discard(name)

    def _changed(self, mutation: Mutation | None) -> None:
        """``x.append(1)`` loads ``x``: a read and a change if ``x`` is the notebook's; when
        ``x`` is a loop variable, it changes the items of what the loop goes over as well."""
        if mutation is None:
            return
        self._load(mutation.name, mutation)
        alias = self._alias(mutation.name)
        if alias is not None:
            roots, loop = alias
            for root in roots:
                self._load(root, loop_change(mutation, root, loop()))

    def _alias(self, name: str) -> _Alias | None:
        """What the loop variable ``name`` holds the items of, seen from the current scope
        (a comprehension sees its enclosing scope's loop variables)."""
        for scope in reversed(self.stack):
            if name in scope.aliases:
                return scope.aliases[name]
            if name in scope.bound or scope.kind is not COMPREHENSION:
                return None
        return self.aliases.get(name)

    def _set_alias(self, names: Iterable[str], roots: Iterable[str],
                   loop: Callable[[], str]) -> None:
        """The loop variables ``names`` hold the items of ``roots`` (themselves perhaps loop
        variables of an outer loop: ``for cell in row`` inside ``for row in rows``)."""
        resolved: list[str] = []
        for root in roots:
            outer = self._alias(root)
            if outer is not None:  # the warning names the loop over the outer name
                resolved.extend(outer[0])
                loop = outer[1]
            else:
                resolved.append(root)
        if not resolved:
            return
        aliases = self.stack[-1].aliases if self.stack else self.aliases
        for name in names:
            aliases[name] = (tuple(dict.fromkeys(resolved)), loop)

    def _pop_scope(self) -> None:
        scope = self.stack.pop()
        index = len(self.stack) - 1
        own = scope.kind is ANNOTATION  # its own loads see a class it sits in (PEP 695)
        for refs, sees_class in ((scope.pending, own), (scope.deep, False)):
            for name, (later, mutation) in refs.items():
                if name not in scope.bound and name not in scope.nonlocal_decl:
                    self._forward(index, name, later or scope.later, mutation, sees_class)
