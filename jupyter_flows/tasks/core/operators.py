"""The tasks behind task operators (``a + b`` is ``Add()(a, b)``), named as in Prefect 1.x."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any, ClassVar

from jupyter_flows.core.task import GetItem, Task

__all__ = ["Add", "And", "Div", "Equal", "FloorDiv", "GetItem", "GreaterThan",
           "GreaterThanOrEqual", "LessThan", "LessThanOrEqual", "Mod", "Mul", "Not",
           "NotEqual", "Or", "Pow", "Sub"]


class _Binary(Task):
    op: ClassVar[Callable[[Any, Any], Any]]

    def __init__(self, **options: Any) -> None:
        options.setdefault("name", type(self).__name__)
        super().__init__(**options)

    def run(self, x: Any, y: Any) -> Any:
        return type(self).op(x, y)


class Add(_Binary):
    """``x + y``"""
    op = staticmethod(operator.add)


class Sub(_Binary):
    """``x - y``"""
    op = staticmethod(operator.sub)


class Mul(_Binary):
    """``x * y``"""
    op = staticmethod(operator.mul)


class Div(_Binary):
    """``x / y``"""
    op = staticmethod(operator.truediv)


class FloorDiv(_Binary):
    """``x // y``"""
    op = staticmethod(operator.floordiv)


class Mod(_Binary):
    """``x % y``"""
    op = staticmethod(operator.mod)


class Pow(_Binary):
    """``x ** y``"""
    op = staticmethod(operator.pow)


class And(_Binary):
    """``x and y``"""
    op = staticmethod(lambda x, y: x and y)


class Or(_Binary):
    """``x or y``"""
    op = staticmethod(lambda x, y: x or y)


class Equal(_Binary):
    """``x == y``"""
    op = staticmethod(operator.eq)


class NotEqual(_Binary):
    """``x != y``"""
    op = staticmethod(operator.ne)


class GreaterThan(_Binary):
    """``x > y``"""
    op = staticmethod(operator.gt)


class GreaterThanOrEqual(_Binary):
    """``x >= y``"""
    op = staticmethod(operator.ge)


class LessThan(_Binary):
    """``x < y``"""
    op = staticmethod(operator.lt)


class LessThanOrEqual(_Binary):
    """``x <= y``"""
    op = staticmethod(operator.le)


class Not(Task):
    """``not x``"""

    def __init__(self, **options: Any) -> None:
        options.setdefault("name", "Not")
        super().__init__(**options)

    def run(self, x: Any) -> bool:
        return not x
