"""The base of every schedule model, and how its validation errors read."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic.config import JsonDict

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
      ``ValidationError``, which :func:`describe_validation_error` words the same way;
    - equality and hashing by the JSON form, which (unlike datetime ``==``) tells the
      two 02:30s of a repeated hour apart.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_require_type)

    type: str

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        tag = cls.model_fields["type"].default
        if isinstance(tag, str):
            TAGS[tag] = cls

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


TAGS: dict[str, type[ScheduleModel]] = {}
"""The model of every ``type`` value, to read union tags in error paths."""


def describe_validation_error(model: type[BaseModel], exc: ValidationError) -> str:
    """One ``Model.field: message`` line per pydantic error; union tags are left out of
    the path, so a bad cron in a schedule reads ``Schedule.clocks[0].cron: ...``."""
    lines = []
    for error in exc.errors(include_url=False):
        parts: list[str] = []
        loc = list(error["loc"])
        where_model: type[BaseModel] = model
        for i, part in enumerate(loc):
            if isinstance(part, int):
                parts.append(f"[{part}]")
            elif i > 0 and isinstance(loc[i - 1], int) and part in TAGS:
                where_model = TAGS[str(part)]
            else:
                parts.append(f".{part}")
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = _unknown_field(where_model, str(loc[-1]))
        lines.append(f"{model.__name__}{''.join(parts)}: {message}")
    return "\n".join(lines)


def _unknown_field(model: type[BaseModel], name: str) -> str:
    import difflib

    known = [field for field in model.model_fields if field != "type"]
    close = difflib.get_close_matches(name, known, n=1)
    if close:
        return f"unknown field; did you mean {close[0]!r}?"
    return f"unknown field; known fields: {', '.join(known) or 'none'}"
