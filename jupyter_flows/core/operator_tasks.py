"""The tasks behind task operators (``a + b`` is ``Add()(a, b)``), named as in Prefect 1.x.

Users import them from ``jupyter_flows.tasks.core.operators``, Prefect's path."""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from jupyter_flows.core.task import GetItem, Task

__all__ = ["Add", "And", "Div", "Equal", "FloorDiv", "GetItem", "GreaterThan",
           "GreaterThanOrEqual", "LessThan", "LessThanOrEqual", "Mod", "Mul", "Not",
           "NotEqual", "Or", "Pow", "Sub"]


_OPS: dict[str, Callable[[Any, Any], Any]] = {
    "Add": operator.add, "Sub": operator.sub, "Mul": operator.mul, "Div": operator.truediv,
    "FloorDiv": operator.floordiv, "Mod": operator.mod, "Pow": operator.pow,
    "And": lambda x, y: x and y, "Or": lambda x, y: x or y, "Equal": operator.eq,
    "NotEqual": operator.ne, "GreaterThan": operator.gt, "GreaterThanOrEqual": operator.ge,
    "LessThan": operator.lt, "LessThanOrEqual": operator.le,
}


class _Binary(Task):

    def __init__(self, **options: Any) -> None:
        options.setdefault("name", type(self).__name__)
        super().__init__(**options)

    def run(self, x: Any, y: Any) -> Any:
        return _OPS[type(self).__name__](x, y)


class Add(_Binary):
    """``x + y``"""


class Sub(_Binary):
    """``x - y``"""


class Mul(_Binary):
    """``x * y``"""


class Div(_Binary):
    """``x / y``"""


class FloorDiv(_Binary):
    """``x // y``"""


class Mod(_Binary):
    """``x % y``"""


class Pow(_Binary):
    """``x ** y``"""


class And(_Binary):
    """``x and y``"""


class Or(_Binary):
    """``x or y``"""


class Equal(_Binary):
    """``x == y``"""


class NotEqual(_Binary):
    """``x != y``"""


class GreaterThan(_Binary):
    """``x > y``"""


class GreaterThanOrEqual(_Binary):
    """``x >= y``"""


class LessThan(_Binary):
    """``x < y``"""


class LessThanOrEqual(_Binary):
    """``x <= y``"""


class Not(Task):
    """``not x``"""

    def __init__(self, **options: Any) -> None:
        options.setdefault("name", "Not")
        super().__init__(**options)

    def run(self, x: Any) -> bool:
        return not x
