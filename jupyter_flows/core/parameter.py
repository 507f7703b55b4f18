"""Parameters: named inputs whose values are given when a flow run starts."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from jupyter_flows.core import building
from jupyter_flows.core.task import Task
from jupyter_flows.errors import ParameterError, TaskDefinitionError

if TYPE_CHECKING:
    from jupyter_flows.core.flow import Flow

_NO_DEFAULT: Any = type("NoDefault", (), {"__repr__": lambda self: "<no default>"})()


class Parameter(Task):
    """A flow input: ``Parameter("n", default=10)``; required when it has no default.

    Its slug is its name, so a flow cannot have two parameters of one name. Made inside a
    ``with Flow(...)`` block it joins that flow even when no task uses it yet.
    """

    def __init__(self, name: str, default: Any = _NO_DEFAULT, required: bool | None = None,
                 tags: Iterable[str] | None = None) -> None:
        if not name.isidentifier() and not name.replace("-", "_").isidentifier():
            raise TaskDefinitionError(f"parameter name {name!r} must be an identifier")
        super().__init__(name=name, slug=name, tags=tags)
        self.required = default is _NO_DEFAULT if required is None else required
        self.default = None if default is _NO_DEFAULT else default
        flow = building.active_flow()
        if flow is not None:
            flow.add_task(self)

    def copy(self, name: str | None = None, **changes: Any) -> Task:
        """A copy under a new ``name`` (its slug too): ``Parameter.copy("other")``."""
        if not name:
            raise TypeError(f"parameter {self.name!r}: copy() needs the new parameter's name")
        new = super().copy(slug=name, **changes)
        new.name = name
        return new

    def __call__(self, flow: Flow | None = None) -> Parameter:  # type: ignore[override]
        """``p(flow=f)`` adds this parameter to ``f``. A bare ``p()`` is refused: a parameter
        made in a ``with Flow`` block is in that flow already, and calling it like a task
        (expecting a copy with inputs) is a mistake worth naming."""
        if flow is None:
            raise TypeError(f"parameter {self.name!r} cannot be called; pass it to tasks as an"
                            f" input (p(flow=f) adds it to flow f)")
        flow.add_task(self)
        return self

    def coerce(self, value: Any) -> Any:
        """The value tasks receive for ``value`` given to the run (as given, here)."""
        return value

    def run(self) -> Any:  # the runner supplies the value; this is what a bare run sees
        return self.default

    def __repr__(self) -> str:
        return f"<Parameter: {self.name}>"


class DateTimeParameter(Parameter):
    """A parameter whose value is a ``datetime``: given as one, or as ISO 8601 text
    (``"2024-05-01T06:00:00+00:00"``, ``"2024-05-01"``), as it arrives from the CLI or API."""

    def coerce(self, value: Any) -> Any:
        if value is None or isinstance(value, _dt.datetime):
            return value
        if isinstance(value, _dt.date):
            return _dt.datetime(value.year, value.month, value.day)
        if isinstance(value, str):
            text = value.strip()
            if text.endswith(("Z", "z")):  # Python 3.10's fromisoformat has no 'Z'
                text = text[:-1] + "+00:00"
            try:
                return _dt.datetime.fromisoformat(text)
            except ValueError:
                pass
        raise ParameterError(
            f"parameter {self.name!r}: expected a datetime or ISO 8601 text like"
            f" '2024-05-01T06:00:00+00:00', got {value!r}"
        )


def parameters_problem(flow_name: str, declared: Mapping[str, bool], given: Iterable[str]
                       ) -> str | None:
    """Why ``given`` parameter names do not fit a flow whose parameters are ``declared``
    (name -> required), or None; the one wording of local runs and the backend."""
    given = set(given)
    unknown = sorted(given - set(declared))
    if unknown:
        return (f"flow {flow_name!r} has no parameter {', '.join(map(repr, unknown))};"
                f" its parameters are: {', '.join(declared) or 'none'}")
    missing = [name for name, required in declared.items() if required and name not in given]
    if missing:
        return (f"flow {flow_name!r} needs a value for required parameter"
                f" {', '.join(map(repr, missing))}: parameters={{{missing[0]!r}: ...}}")
    return None
