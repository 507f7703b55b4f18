"""IPython syntax in a cell: turning it into Python, and the code that ``%time``/``%timeit`` run."""

from __future__ import annotations

import ast
import warnings
from typing import NamedTuple

__all__ = ["TimedCode", "ast_parse", "ipython_to_python", "is_line_magic", "timed_code"]

# %timeit's options that take a value, from IPython's getopt spec "n:r:tcp:qov:".
_TIMEIT_VALUE_OPTIONS = "nrpv"


class TimedCode(NamedTuple):
    """The code a ``%time`` or ``%timeit`` line runs in the notebook's namespace."""

    magic: str  # "time" or "timeit"
    code: str
    tree: ast.Module
    result_name: str  # %timeit -v NAME stores its result in NAME; "" without -v


def ast_parse(source: str) -> ast.Module:
    # Invalid escapes like "\d" warn at compile time; the cell reports them when it runs.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(source)


def ipython_to_python(source: str) -> str | None:
    try:
        from IPython.core.inputtransformer2 import TransformerManager
    except ImportError:
        return None
    try:
        return str(TransformerManager().transform_cell(source))
    except Exception:  # IPython cannot make sense of it either: report Python's own error
        return None


def is_line_magic(node: ast.Call) -> bool:
    """``get_ipython().run_line_magic(...)``, the call IPython writes for ``%magic line``."""
    func = node.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "run_line_magic"
        and isinstance(func.value, ast.Call)
        and isinstance(func.value.func, ast.Name)
        and func.value.func.id == "get_ipython"
    )


def timed_code(node: ast.Call) -> TimedCode | None:
    """The code of ``get_ipython().run_line_magic('time' | 'timeit', code)``, parsed.

    None for other magics, whose arguments are strings to us (no names in them), and for code
    that does not parse (IPython reports it when the cell runs).
    """
    if len(node.args) != 2:
        return None
    magic, line = (a.value if isinstance(a, ast.Constant) else None for a in node.args)
    if magic not in ("time", "timeit") or not isinstance(line, str):
        return None
    code, options = _split_options(line, _TIMEIT_VALUE_OPTIONS if magic == "timeit" else "")
    try:
        tree = ast_parse(code)
    except (SyntaxError, ValueError):
        return None
    return TimedCode(magic, code, tree, options.get("v", ""))


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
