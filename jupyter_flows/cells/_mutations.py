"""In-place changes of names (``df["x"] = 1``, ``rows.append(r)``) and what to write instead."""

from __future__ import annotations

import ast

from jupyter_flows.cells.analysis import MUTATING_METHODS, Mutation

__all__ = [
    "augmented_template",
    "call_change",
    "del_change",
    "iterated_roots",
    "loop_change",
    "loop_text",
    "target_change",
]

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


# Builtins whose result hands out the very items of their arguments: a loop over
# ``sorted(rows)`` or ``enumerate(rows)`` gets the dicts of ``rows`` themselves.
_PASS_THROUGH = frozenset({"enumerate", "filter", "iter", "list", "reversed", "sorted", "tuple",
                           "zip"})


def _root_name(node: ast.expr) -> str | None:
    """``a`` for ``a.b[c].d``; None when the chain starts at a call or a literal."""
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def augmented_template(op: ast.operator) -> str:
    """How ``target op= ...`` reads in a ``Mutation.code``, e.g. ``'{} += ...'``."""
    return "{} " + _OPERATORS.get(type(op), "") + "= ..."


def del_change(name: str) -> Mutation:
    """``del x`` of a name the cell did not bind."""
    advice = f"leave the del out: a later cell that reads {name!r} still gets it"
    return Mutation(name, f"del {name}", advice)


def target_change(
    target: ast.Attribute | ast.Subscript, template: str, source: str
) -> Mutation | None:
    """A store into (or ``del`` of) an attribute or item; ``template`` says which statement."""
    name = _root_name(target)
    if name is None:
        return None
    if isinstance(target, ast.Subscript):
        example = f"{name} = {name}.assign(...)"
    else:
        example = f"{name} = copy.copy({name}), then change the copy"
    return _changed(name, template.format(_segment(source, target)), example)


def call_change(node: ast.Call, source: str) -> Mutation | None:
    """A call that changes its receiver (by name, or ``inplace=True``), or setattr/delattr."""
    func = node.func
    if isinstance(func, ast.Attribute):
        inplace = any(
            kw.arg == "inplace" and isinstance(kw.value, ast.Constant) and kw.value.value is True
            for kw in node.keywords
        )
        name = _root_name(func.value)
        if name is None or not (inplace or func.attr in MUTATING_METHODS):
            return None
        if inplace:
            code = f"{_segment(source, func)}(..., inplace=True)"
            example = f"{name} = {name}.{func.attr}(...) without inplace=True"
        else:
            code = f"{_segment(source, func)}(...)"
            example = _REBIND_EXAMPLES.get(func.attr, "{n} = ...").format(n=name)
        return _changed(name, code, example)
    if isinstance(func, ast.Name) and func.id in ("setattr", "delattr") and node.args:
        name = _root_name(node.args[0])
        if name is not None:
            code = f"{func.id}({_segment(source, node.args[0])}, ...)"
            return _changed(name, code, f"{name} = copy.copy({name}), then change the copy")
    return None


def _changed(name: str, code: str, example: str) -> Mutation:
    return Mutation(name, code, f"assign a new value instead ({example})")


def _segment(source: str, node: ast.AST) -> str:
    text = ast.get_source_segment(source, node) or ast.unparse(node)
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "..."


def iterated_roots(node: ast.expr) -> list[str]:
    """The names whose items a loop over ``node`` gets: ``rows`` for ``rows``,
    ``data["rows"]``, ``rows.items()``, ``enumerate(rows)`` or ``zip(rows, other)``."""
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute):  # rows.items(), df.iterrows()
            return iterated_roots(func.value)
        if isinstance(func, ast.Name) and func.id in _PASS_THROUGH:
            args = node.args[1:] if func.id == "filter" else node.args
            return [root for arg in args for root in iterated_roots(arg)]
        return []
    name = _root_name(node)
    return [name] if name is not None else []


def loop_change(change: Mutation, root: str, loop: str) -> Mutation:
    """``change`` made through a loop variable that holds the items of ``root``."""
    return Mutation(root, f"{change.code} in the loop `{loop}`",
                    f"build new items instead of changing them ({root} = [... {loop}])")


def loop_text(target: ast.expr, iterable: ast.expr, source: str) -> str:
    """``for row in rows``, as the warning names the loop."""
    return f"for {_segment(source, target)} in {_segment(source, iterable)}"
