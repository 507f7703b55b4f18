"""The error tree: the drawing in ``jupyter_flows.errors``' docstring is the class tree, and
the package raises no bare RuntimeError or Exception on purpose."""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import jupyter_flows
from jupyter_flows import errors

PACKAGE = Path(jupyter_flows.__file__).parent


def drawn_tree() -> dict[str, str | None]:
    """Each class name in the docstring's drawing, with the name it hangs under."""
    parents: dict[str, str | None] = {}
    stack: list[tuple[int, str]] = []
    for line in (errors.__doc__ or "").splitlines():
        # the root alone on its line, every other class after a branch
        match = re.match(r"[ │]*[├└]── ([A-Z]\w+)", line) or re.fullmatch(r"\s*([A-Z]\w+)", line)
        if match is None:
            continue
        depth = match.start(1)  # the column the name is drawn at
        while stack and stack[-1][0] >= depth:
            stack.pop()
        parents[match.group(1)] = stack[-1][1] if stack else None
        stack.append((depth, match.group(1)))
    return parents


def class_tree() -> dict[str, str | None]:
    tree: dict[str, str | None] = {}
    for name, cls in vars(errors).items():
        if inspect.isclass(cls) and issubclass(cls, errors.JupyterFlowsError):
            parent = next((b.__name__ for b in cls.__bases__
                           if issubclass(b, errors.JupyterFlowsError)), None)
            tree[name] = parent
    return tree


def test_the_docstring_draws_every_error_under_its_parent() -> None:
    assert drawn_tree() == class_tree()


def test_the_package_raises_no_bare_runtime_errors() -> None:
    allowed = {
        # the flow runner's own invariant: reaching it is a bug in the engine, not a misuse
        ("engine/flow_runner.py", "RuntimeError"),
        # raised inside a task run (a stand-in task drawn from a spec): it becomes the
        # task's Failed state like any user exception
        ("api/flow_spec.py", "RuntimeError"),
    }
    found = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) \
                    and isinstance(node.exc.func, ast.Name) \
                    and node.exc.func.id in {"RuntimeError", "Exception"}:
                found.add((path.relative_to(PACKAGE).as_posix(), node.exc.func.id))
    assert found <= allowed, sorted(found - allowed)


def test_the_labservers_unreachable_is_part_of_the_tree() -> None:
    from jupyter_flows.labserver.backend import Unreachable

    exc = Unreachable("http://127.0.0.1:4200", "the embedded backend exited with code 1")
    assert isinstance(exc, errors.BackendUnavailable)
    assert str(exc) == ("backend at http://127.0.0.1:4200 is not reachable: the embedded "
                        "backend exited with code 1")
    assert exc.url == "http://127.0.0.1:4200" and exc.reason.endswith("code 1")
