"""Parameters: named inputs whose values are given when a flow run starts."""

from __future__ import annotations

from typing import Any

from jupyter_flows.core import building
from jupyter_flows.core.task import Task

_NO_DEFAULT: Any = type("NoDefault", (), {"__repr__": lambda self: "<no default>"})()


class Parameter(Task):
    """A flow input: ``Parameter("n", default=10)``; required when it has no default.

    Its slug is its name, so a flow cannot have two parameters of one name. Made inside a
    ``with Flow(...)`` block it joins that flow even when no task uses it yet.
    """

    def __init__(self, name: str, default: Any = _NO_DEFAULT, required: bool | None = None,
                 tags: tuple[str, ...] = ()) -> None:
        if not name.isidentifier() and not name.replace("-", "_").isidentifier():
            raise ValueError(f"parameter name {name!r} must be an identifier")
        super().__init__(name=name, slug=name, tags=tags)
        self.required = default is _NO_DEFAULT if required is None else required
        self.default = None if default is _NO_DEFAULT else default
        flow = building.active_flow()
        if flow is not None:
            flow.add_task(self)

    def copy(self, **changes: Any) -> Task:
        raise TypeError(f"parameter {self.name!r} cannot be copied or called; pass it to tasks")

    def __call__(self, *args: Any, **kwargs: Any) -> Task:
        raise TypeError(f"parameter {self.name!r} cannot be called; pass it to tasks as an input")

    def run(self) -> Any:  # the runner supplies the value; this is what a bare run sees
        return self.default

    def __repr__(self) -> str:
        return f"<Parameter: {self.name}>"
