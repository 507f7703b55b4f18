"""In-place changes of names (``df["x"] = 1``, ``rows.append(r)``) and what to write instead."""

from __future__ import annotations

import ast

from jupyter_flows.cells.analysis import MUTATING_METHODS, Mutation

__all__ = ["augmented_template", "call_change", "del_change", "target_change"]

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
