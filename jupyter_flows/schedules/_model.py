"""The base of every schedule model, and how its validation errors read."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.config import JsonDict

from jupyter_flows.configs import describe_validation_error
from jupyter_flows.errors import ScheduleError


def _require_type(schema: JsonDict) -> None:
    # ``type`` has a default, so pydantic calls it optional; union members are told apart
    # by it, so the schema (and the forms built from it) must require it.
    required = schema.setdefault("required", [])
    if isinstance(required, list) and "type" not in required:
        required.insert(0, "type")


class ScheduleModel(BaseModel):
    """A clock, filter, adjustment or schedule: a frozen value with a ``type`` tag.

    Responsible for:
    - refusing unknown fields and changes after creation;
    - raising ``ScheduleError`` (one ``Model.field: rule`` line per problem) when built
      directly, while validation from config (``model_validate``) reports pydantic's
      ``ValidationError``, which ``configs.describe_validation_error`` words the same way;
    - equality and hashing by the JSON form, which (unlike datetime ``==``) tells the
      two 02:30s of a repeated hour apart.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_require_type)

    type: str

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise ScheduleError(describe_validation_error(type(self), exc)) from None

    # Only a direct call converts the error: model_validate and parent models validate
    # without this __init__ (RunConfig carries the same mark). Subclasses with a
    # positional __init__ of their own carry it too.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    def _json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), sort_keys=True)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ScheduleModel):
            return NotImplemented
        return type(self) is type(other) and self._json() == other._json()

    def __hash__(self) -> int:
        return hash(self._json())

    def __str__(self) -> str:
        return repr(self)
