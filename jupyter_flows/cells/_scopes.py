"""The scope walker behind ``analyze_cell``: what a cell's code binds, reads and changes."""

from __future__ import annotations

import ast
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

from jupyter_flows.cells._ipython_syntax import is_line_magic, timed_code
from jupyter_flows.cells._mutations import (
    augmented_template,
    call_change,
    iterated_roots,
    loop_text,
    target_change,
)
from jupyter_flows.cells._resolver import (
    ANNOTATION,
    CLASS,
    COMPREHENSION,
    FUNCTION,
    NameResolver,
    Scope,
)
from jupyter_flows.cells.analysis import StarImportError

__all__ = ["Walker"]


def _arguments(args: ast.arguments) -> list[ast.arg]:
    extra = [a for a in (args.vararg, args.kwarg) if a is not None]
    return [*args.posonlyargs, *args.args, *args.kwonlyargs, *extra]


class Walker(NameResolver, ast.NodeVisitor):
    """Walks one cell in execution order; the top level is the notebook's global scope."""

    def __init__(self, source: str, lazy_annotations: bool = False) -> None:
        super().__init__()
        self.source = source
        self.lazy_annotations = lazy_annotations  # `from __future__ import annotations`
        self.template = "{} = ..."  # how the statement being walked changes a target

    # ast.NodeVisitor looks its method up by name on every node; a notebook of a few hundred
    # cells is analysed on each %%task run, so cache the lookup per node type.
    _dispatch: ClassVar[dict[type[ast.AST], Callable[[Walker, Any], None]]] = {}

    def visit(self, node: ast.AST) -> None:
        kind = type(node)
        if kind not in self._dispatch:
            self._dispatch[kind] = getattr(Walker, "visit_" + kind.__name__, Walker.generic_visit)
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
        self.template = augmented_template(node.op)
        self.visit(target)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        in_function = bool(self.stack) and self.stack[-1].kind is FUNCTION
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
        self.loop_target = True
        try:
            self.visit(node.target)
        finally:
            self.loop_target = False
        self._alias_loop(node.target, node.iter)
        self.visit_body(node.body)
        self.visit_body(node.orelse)

    def _alias_loop(self, target: ast.expr, iterable: ast.expr) -> None:
        names = [n.id for n in ast.walk(target) if isinstance(n, ast.Name)]
        if names:
            source = self.source
            self._set_alias(names, iterated_roots(iterable),
                            lambda: loop_text(target, iterable, source))

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
        name = node.name
        if name is None:
            self.visit_body(node.body)
            return
        names = self._handler_names(name)
        had = names is not None and name in names
        self._bind(name)
        self.visit_body(node.body)
        if names is not None:  # Python deletes the name when the handler ends (`except*` too)
            self._handler_ended(name, names, had)

    # -- definitions ---------------------------------------------------------------------

    def _visit_defaults(self, args: ast.arguments) -> None:
        for default in [*args.defaults, *args.kw_defaults]:
            if default is not None:
                self.visit(default)

    def _visit_annotations(self, args: ast.arguments, returns: ast.expr | None) -> None:
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
        self.stack.append(Scope(FUNCTION, params, later=later))
        self.visit_body(body)
        self._pop_scope()

    def _enter_type_params(self, node: ast.AST) -> bool:
        """PEP 695 (Python 3.12+): ``def f[T]``, ``class A[T]`` and ``type X[T] = ...`` run in an
        annotation scope that binds the type parameters; True when one was entered."""
        params = getattr(node, "type_params", None)
        if not params:
            return False
        self.stack.append(Scope(ANNOTATION, [param.name for param in params]))
        for param in params:  # bounds, constraints and (3.13) defaults are evaluated lazily
            for expr in (getattr(param, "bound", None), getattr(param, "default_value", None)):
                if expr is not None:
                    self._visit_lazy(expr)
        return True

    def _visit_lazy(self, expr: ast.expr) -> None:
        """An expression Python evaluates only when asked for it, like a function body."""
        self.stack.append(Scope(ANNOTATION, later=True))
        self.visit(expr)
        self._pop_scope()

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        self._visit_defaults(node.args)  # outside the type parameters' scope
        generic = self._enter_type_params(node)
        self._visit_annotations(node.args, node.returns)
        self._visit_function_body(node.args, node.body)
        if generic:
            self._pop_scope()
        self._bind(node.name)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._visit_defaults(node.args)
        self._visit_function_body(node.args, [node.body])

    def visit_ClassDef(self, node: ast.ClassDef) -> None:
        for decorator in node.decorator_list:
            self.visit(decorator)
        generic = self._enter_type_params(node)  # the bases and the body see the parameters
        for expr in [*node.bases, *(k.value for k in node.keywords)]:
            self.visit(expr)
        self.stack.append(Scope(CLASS))
        self.visit_body(node.body)
        self.stack.pop()
        if generic:
            self._pop_scope()
        self._bind(node.name)

    def visit_TypeAlias(self, node: Any) -> None:  # ast.TypeAlias, Python 3.12+
        generic = self._enter_type_params(node)
        self._visit_lazy(node.value)
        if generic:
            self._pop_scope()
        self._bind(node.name.id)

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
            self._changed(target_change(node, self.template, self.source))
        self.generic_visit(node)

    visit_Subscript = visit_Attribute

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        index = len(self.stack) - 1
        while index >= 0 and self.stack[index].kind is COMPREHENSION:
            index -= 1  # PEP 572: the target belongs to the scope around the comprehension
        self._bind(node.target.id, index)

    def _visit_comprehension(
        self, generators: list[ast.comprehension], results: list[ast.expr]
    ) -> None:
        self.visit(generators[0].iter)  # evaluated in the enclosing scope
        self.stack.append(Scope(COMPREHENSION))
        for i, generator in enumerate(generators):
            if i:
                self.visit(generator.iter)
            self.template = "{} = ..."
            self.visit(generator.target)
            self._alias_loop(generator.target, generator.iter)
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
        self._changed(call_change(node, self.source))
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
        if not is_line_magic(node):
            return False
        timed = timed_code(node)
        if timed is None:
            return True  # another magic, or code that IPython rejects when the cell runs
        outer, self.source = self.source, timed.code
        try:
            if timed.magic == "time":
                self.visit_body(timed.tree.body)
            else:  # %timeit compiles the code into a function body and calls it at once
                self._visit_function_body(None, timed.tree.body, later=False)
        finally:
            self.source = outer
        if timed.result_name:
            self._bind(timed.result_name)  # %timeit -v NAME stores its result in NAME
        return True
