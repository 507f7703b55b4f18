"""A ``%%task`` cell as a task: its source runs in a fresh namespace and returns what it defines.

A :class:`CellTask` keeps the cell's *source text*, never a code object, so it pickles with
cloudpickle and runs on every executor (in the kernel, on a process pool, on a Dask worker, in
an agent's flow-run process). One run:

1. builds a fresh globals dict: ``__name__ = "__main__"`` (so functions and classes the cell
   defines pickle by value, as notebook code does), the builtins, ``display`` and
   ``get_ipython`` (IPython's in the kernel, stand-ins elsewhere: see ``_stand_ins``), the names
   the cell reads from upstream cells, and the notebook's own variables it reads (bound to the
   flow as constants);
2. compiles the source under the file name ``<task cell 'NAME'>`` and registers that source in
   :mod:`linecache` of the process that runs it, so a traceback shows the cell's own lines. The
   first line of the source is the ``%%task`` line (as a comment), so line numbers are those the
   notebook shows;
3. runs it and returns a :class:`CellOutputs`: the names the cell defines, by name.

Modules among the outputs (``import pandas as pd``) travel by import name: pickling a
``CellOutputs`` replaces each importable module by a :class:`ModuleRef`, which imports it again
where it is unpickled (with the submodules the cell's own ``import a.b`` statements named).
A module that is not importable by name is left to cloudpickle.

Caching is per *name*: an upstream cell hands over all its outputs, but a cell's cached outputs
stay valid while the names it actually reads keep their tokens (``SameInputs``). Each output is
tokened once, by the run that made it, and its token travels with it (through pickles and the
cache), so large values are hashed once, not on every run.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import hashlib
import importlib
import linecache
import sys
import uuid
from collections.abc import Iterable, Iterator, Mapping
from datetime import timedelta
from types import ModuleType
from typing import TYPE_CHECKING, Any

from jupyter_flows.cells._stand_ins import ipython_names
from jupyter_flows.core.task import Task
from jupyter_flows.engine import cache_validators

if TYPE_CHECKING:
    from jupyter_flows.engine.states import State

__all__ = [
    "CACHE_SECONDS",
    "CellOutputs",
    "CellTask",
    "ModuleRef",
    "SameInputs",
    "cell_filename",
    "source_hash",
]

CACHE_SECONDS = timedelta(days=3650).total_seconds()
"""How long a cell's cached outputs stay valid: until its source or inputs change, in effect.

Finite, because a task's ``cache_for`` is part of the flow's JSON spec."""

_MISSING = "<missing>"


def cell_filename(name: str) -> str:
    """The file name a cell's code runs under, as its tracebacks show it."""
    return f"<task cell {name!r}>"


def source_hash(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()[:16]


class ModuleRef:
    """A module by import name; ``load()`` imports it (and the submodules given) again."""

    __slots__ = ("name", "submodules")

    def __init__(self, name: str, submodules: Iterable[str] = ()) -> None:
        self.name = name
        self.submodules = tuple(submodules)

    def load(self) -> ModuleType:
        module = importlib.import_module(self.name)
        for name in self.submodules:
            # a missing one: the cell's attribute access will say what is missing
            with contextlib.suppress(ImportError):
                importlib.import_module(name)
        return module

    def __reduce__(self) -> tuple[Any, ...]:
        return (ModuleRef, (self.name, self.submodules))

    def __repr__(self) -> str:
        return f"ModuleRef({self.name!r})"


def _by_name(value: Any, submodules: Iterable[str]) -> Any:
    if isinstance(value, ModuleType) and sys.modules.get(value.__name__) is value:
        return ModuleRef(value.__name__, submodules)
    return value


def _rebuild_outputs(values: dict[str, Any], submodules: dict[str, tuple[str, ...]],
                     tokens: dict[str, str] | None, input_tokens: dict[str, str] | None
                     ) -> CellOutputs:
    loaded = {k: v.load() if isinstance(v, ModuleRef) else v for k, v in values.items()}
    outputs = CellOutputs(loaded, submodules=submodules, input_tokens=input_tokens)
    outputs._tokens = tokens
    return outputs


class CellOutputs(Mapping[str, Any]):
    """The names one run of a task cell defined, with their values (read-only).

    Also holds ``submodules`` (output module -> the submodules the cell imported under it),
    each output's token (computed on first use) and ``input_tokens``, the tokens of the names
    the run read from upstream cells. Pickles modules by name.
    """

    def __init__(self, values: Mapping[str, Any] | Iterable[tuple[str, Any]] = (), *,
                 submodules: Mapping[str, tuple[str, ...]] | None = None,
                 input_tokens: Mapping[str, str] | None = None) -> None:
        self._values = dict(values)
        self.submodules = dict(submodules or {})
        self.input_tokens = dict(input_tokens) if input_tokens is not None else None
        self._tokens: dict[str, str] | None = None

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"CellOutputs({', '.join(self._values)})"

    def token(self, name: str) -> str:
        """The token (dask's ``tokenize``) of one output; ``<missing>`` if not defined."""
        if name not in self._values:
            return _MISSING
        if self._tokens is None:
            self._tokens = {}
        found = self._tokens.get(name)
        if found is None:
            found = self._tokens[name] = _token(self._values[name])
        return found

    def compute_tokens(self) -> CellOutputs:
        """Token every output now, where it was made, so the tokens travel with the values."""
        for name in self._values:
            self.token(name)
        return self

    def __dask_tokenize__(self) -> object:
        return ("CellOutputs", tuple((name, self.token(name)) for name in sorted(self._values)))

    def __reduce__(self) -> tuple[Any, ...]:
        values = {k: _by_name(v, self.submodules.get(k, ())) for k, v in self._values.items()}
        return (_rebuild_outputs, (values, self.submodules, self._tokens, self.input_tokens))


def _token(value: Any) -> str:
    try:
        return cache_validators.token(value)
    except Exception:  # cannot be tokened: never equal to anything, so never reused
        return f"<no token {uuid.uuid4().hex}>"


def upstream_tokens(upstream: Mapping[str, tuple[str, ...]], inputs: Mapping[str, Any]
                    ) -> dict[str, str]:
    """The token of each name a cell reads from upstream cells, from their ``CellOutputs``."""
    tokens = {}
    for key, names in upstream.items():
        outputs = inputs.get(key)
        for name in names:
            tokens[name] = (outputs.token(name) if isinstance(outputs, CellOutputs)
                            else _MISSING)
    return tokens


class SameInputs:
    """A cache validator: the cached outputs stand while the names the cell reads are the same.

    Names from upstream cells are compared by their own tokens (a change to another output
    of the same upstream cell does not count); notebook variables by the engine's record.
    """

    def __init__(self, upstream: Mapping[str, tuple[str, ...]]) -> None:
        self.upstream = dict(upstream)

    def __call__(self, state: State, inputs: Mapping[str, Any],
                 parameters: Mapping[str, Any]) -> bool:
        outputs = state.result
        if not isinstance(outputs, CellOutputs) or outputs.input_tokens is None:
            return False
        record = state.cached_inputs or {}
        constants = [key for key in inputs if key not in self.upstream]
        if set(record.get("inputs", {})) != set(inputs):
            return False
        same_constants = cache_validators.partial_inputs_only(constants)
        return (same_constants(state, inputs, parameters)
                and outputs.input_tokens == upstream_tokens(self.upstream, inputs))


def imported_submodules(source: str) -> dict[str, tuple[str, ...]]:
    """For ``import a.b.c`` (which binds ``a``): ``{"a": ("a.b.c",)}``; top level only."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return {}
    found: dict[str, list[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname is None and "." in alias.name:
                    found.setdefault(alias.name.split(".")[0], []).append(alias.name)
    return {name: tuple(dict.fromkeys(subs)) for name, subs in found.items()}


class CellTask(Task):
    """One ``%%task`` cell of a flow.

    Responsible for:
    - running the cell's source with its inputs and returning the names it defines;
    - knowing which input (one per upstream cell, keyed by the names that flow along the edge)
      holds which names; every other input is a notebook variable, passed by its own name;
    - with ``cache``, saying when an earlier run's outputs may stand in for a run: same source
      (part of ``cache_key``), same inputs (``SameInputs``).
    """

    # the names the cell defines; an instance attribute standing in for Task.outputs()
    outputs: tuple[str, ...]  # type: ignore[assignment]


    def __init__(
        self,
        name: str,
        source: str,
        outputs: Iterable[str],
        upstream: Mapping[str, Iterable[str]] | None = None,
        *,
        cache: bool = True,
        cache_key: str | None = None,
        **options: Any,
    ) -> None:
        self.source = source
        self.source_hash = source_hash(source)
        self.outputs = tuple(sorted(outputs))
        self.upstream = {key: tuple(names) for key, names in (upstream or {}).items()}
        self.submodules = imported_submodules(source)
        super().__init__(
            name, slug=name,
            cache_for=CACHE_SECONDS if cache else None,
            cache_validator=SameInputs(self.upstream) if cache else None,
            cache_key=cache_key,
            **options,
        )

    @property
    def filename(self) -> str:
        return cell_filename(self.name)

    def names_read(self, inputs: Mapping[str, Any], *, strict: bool = True) -> dict[str, Any]:
        """The names the cell reads, from its inputs: each upstream cell's outputs under
        their names, notebook variables under theirs. A name an upstream cell did not define
        raises NameError saying so (``strict``) or is left out (``%flow debug``, which lets
        the cell fail as it did)."""
        names: dict[str, Any] = {}
        for key, value in inputs.items():
            defined = self.upstream.get(key)
            if defined is None:
                names[key] = value  # a notebook variable
                continue
            for name in defined:
                try:
                    names[name] = value[name]
                except KeyError:
                    if strict:
                        raise NameError(
                            f"cell {self.name!r} reads {name!r} from an upstream cell, which "
                            f"did not define it when it ran (is it assigned only in some "
                            f"branches?)") from None
        return names

    def run(self, **inputs: Any) -> CellOutputs:
        namespace: dict[str, Any] = {"__name__": "__main__", "__builtins__": builtins,
                                     **ipython_names(), **self.names_read(inputs)}
        lines = self.source.splitlines(keepends=True)
        linecache.cache[self.filename] = (len(self.source), None, lines, self.filename)
        # dont_inherit: this module's `from __future__ import annotations` is not the cell's
        code = compile(self.source, self.filename, "exec", dont_inherit=True)
        exec(code, namespace)
        return CellOutputs(
            ((name, namespace[name]) for name in self.outputs if name in namespace),
            submodules={k: v for k, v in self.submodules.items() if k in self.outputs},
            input_tokens=(upstream_tokens(self.upstream, inputs)
                          if self.cache_for is not None else None),
        ).compute_tokens()

    def __repr__(self) -> str:
        return f"<CellTask: {self.name}>"
