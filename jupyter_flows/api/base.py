"""What every wire model shares: strict input models, output models read from rows, pages."""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, model_validator

from jupyter_flows.api.bounds import json_problem
from jupyter_flows.engine.states import ALL_STATES

#: States a flow run or task run may be put in (``Finished`` is only a base class).
STATE_NAMES = tuple(name for name in ALL_STATES if name != "Finished")

T = TypeVar("T")


def check_state(name: str) -> str:
    if name not in STATE_NAMES:
        raise ValueError(f"unknown state {name!r}; expected one of {', '.join(STATE_NAMES)}")
    return name


class WireIn(BaseModel):
    """A request body: unknown fields are refused, so a typo is a 422, not silently lost."""

    model_config = ConfigDict(extra="forbid")

    #: refuse text that cannot be stored anywhere in the body (log records escape it)
    refuse_unstorable_text: ClassVar[bool] = True

    @model_validator(mode="before")
    @classmethod
    def _storable(cls, data: Any) -> Any:
        """Every string anywhere in the body must be storable and the body not too deep
        (:mod:`jupyter_flows.api.bounds`); fields add their own bounds on top."""
        if cls.refuse_unstorable_text:
            problem = json_problem(data)
            if problem:
                raise ValueError(problem)
        return data


class WireOut(BaseModel):
    """A response body, built from a row or a dict."""

    # every field is in every response, defaults included: the OpenAPI schema (and so the
    # extension's generated types) marks them required
    model_config = ConfigDict(from_attributes=True,
                              json_schema_serialization_defaults_required=True)


class Page(WireOut, Generic[T]):
    """One page of a list; ``total`` counts all matches, not just this page."""

    items: list[T]
    total: int
    limit: int
    offset: int
