"""Operators on tasks build tasks, as in Prefect 1.x: ``a + b``, ``a[0]``, ``a > 1``,
``a.is_equal(b)``; ``a | b`` makes ``b`` run after ``a`` (an order-only edge).

``Task`` inherits this mixin, so its own module stays about running options; the operator
tasks themselves live in ``core.operator_tasks`` (users import them from
``jupyter_flows.tasks.core.operators``). ``==`` is not overloaded: tasks compare and hash
by identity (flows keep them in dicts).
"""

from __future__ import annotations

from typing import Any


def _apply(name: str, *operands: Any) -> Any:
    from jupyter_flows.core import operator_tasks as operators

    return getattr(operators, name)()(*operands)


class TaskOperators:
    """Python operators and Prefect's named ones, each binding a small operator task."""

    def __getitem__(self, key: Any) -> Any:
        from jupyter_flows.core.task import GetItem

        label = getattr(key, "name", None) if _is_task(key) else repr(key)
        return GetItem(name=f"{getattr(self, 'name', 'task')}[{label}]")(self, key)

    def __add__(self, other: Any) -> Any:
        return _apply("Add", self, other)

    def __radd__(self, other: Any) -> Any:
        return _apply("Add", other, self)

    def __sub__(self, other: Any) -> Any:
        return _apply("Sub", self, other)

    def __rsub__(self, other: Any) -> Any:
        return _apply("Sub", other, self)

    def __mul__(self, other: Any) -> Any:
        return _apply("Mul", self, other)

    def __rmul__(self, other: Any) -> Any:
        return _apply("Mul", other, self)

    def __truediv__(self, other: Any) -> Any:
        return _apply("Div", self, other)

    def __rtruediv__(self, other: Any) -> Any:
        return _apply("Div", other, self)

    def __floordiv__(self, other: Any) -> Any:
        return _apply("FloorDiv", self, other)

    def __rfloordiv__(self, other: Any) -> Any:
        return _apply("FloorDiv", other, self)

    def __mod__(self, other: Any) -> Any:
        return _apply("Mod", self, other)

    def __rmod__(self, other: Any) -> Any:
        return _apply("Mod", other, self)

    def __pow__(self, other: Any) -> Any:
        return _apply("Pow", self, other)

    def __rpow__(self, other: Any) -> Any:
        return _apply("Pow", other, self)

    def __and__(self, other: Any) -> Any:
        return _apply("And", self, other)

    def __rand__(self, other: Any) -> Any:
        return _apply("And", other, self)

    def __gt__(self, other: Any) -> Any:
        return _apply("GreaterThan", self, other)

    def __ge__(self, other: Any) -> Any:
        return _apply("GreaterThanOrEqual", self, other)

    def __lt__(self, other: Any) -> Any:
        return _apply("LessThan", self, other)

    def __le__(self, other: Any) -> Any:
        return _apply("LessThanOrEqual", self, other)

    def is_equal(self, other: Any) -> Any:
        """A task evaluating ``self == other``."""
        return _apply("Equal", self, other)

    def is_not_equal(self, other: Any) -> Any:
        """A task evaluating ``self != other``."""
        return _apply("NotEqual", self, other)

    def not_(self) -> Any:
        """A task evaluating ``not self``."""
        return _apply("Not", self)

    def or_(self, other: Any) -> Any:
        """A task evaluating ``self or other``."""
        return _apply("Or", self, other)

    def and_(self, other: Any) -> Any:
        """A task evaluating ``self and other``."""
        return _apply("And", self, other)

    def __or__(self, other: Any) -> Any:
        """``a | b``: ``b`` runs after ``a``; returns ``b`` so chains read left to right."""
        self.set_downstream(other)  # type: ignore[attr-defined]
        return other

    def __ror__(self, other: Any) -> Any:
        self.set_upstream(other)  # type: ignore[attr-defined]
        return self


def _is_task(value: Any) -> bool:
    from jupyter_flows.core.task import Task

    return isinstance(value, Task)
