"""The operator tasks under Prefect 1.x's module path (``prefect.tasks.core.operators``)."""

from jupyter_flows.core.operator_tasks import (
    Add,
    And,
    Div,
    Equal,
    FloorDiv,
    GetItem,
    GreaterThan,
    GreaterThanOrEqual,
    LessThan,
    LessThanOrEqual,
    Mod,
    Mul,
    Not,
    NotEqual,
    Or,
    Pow,
    Sub,
)

__all__ = ["Add", "And", "Div", "Equal", "FloorDiv", "GetItem", "GreaterThan",
           "GreaterThanOrEqual", "LessThan", "LessThanOrEqual", "Mod", "Mul", "Not",
           "NotEqual", "Or", "Pow", "Sub"]
