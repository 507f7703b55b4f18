"""RunConfig: the base of every run config, and how its validation errors read."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.config import JsonDict

from jupyter_flows.configs import describe_validation_error
from jupyter_flows.errors import RunConfigError
from jupyter_flows.run_configs.fields import ENV_NAME_PATTERN, EnvVars, Labels, anchored
from jupyter_flows.run_configs.masking import mask_config

if TYPE_CHECKING:
    from typing import Self


def _require_type(schema: JsonDict) -> None:
    # ``type`` has a default, so pydantic calls it optional; a union member without it
    # cannot be told apart, so the schema (and the forms built from it) must require it.
    required = schema.setdefault("required", [])
    if isinstance(required, list) and "type" not in required:
        required.insert(0, "type")


class RunConfig(BaseModel):
    """Where a flow run executes; the base of every run config.

    Responsible for:
    - the fields every platform shares: ``env`` and ``labels``;
    - refusing unknown fields and changes after creation (configs are values);
    - raising ``RunConfigError`` with one ``Model.field: rule`` line per problem;
    - a masked view (``public_dict``, ``masked``, the repr) for showing configs to people,
      while ``model_dump`` keeps secrets for the agent that launches the run.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_require_type)

    type: str = Field(description="The kind of run config; selects the model.")
    env: EnvVars = Field(
        default_factory=dict,
        description="Environment variables for the flow run. Values of secret-looking "
        "names (containing KEY, SECRET, TOKEN, PASSWORD...) are masked where shown.",
        json_schema_extra={"propertyNames": {"pattern": anchored(ENV_NAME_PATTERN)}},
    )
    labels: Labels = Field(
        default_factory=list,
        description="Only agents that have every one of these labels may launch the run "
        "(stored stripped, deduplicated and sorted).",
    )

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise RunConfigError(describe_validation_error(self.__class__, exc)) from None

    # Tell pydantic this __init__ only converts the error (pydantic marks its own __init__
    # the same way), so model_validate, TypeAdapter and parent models keep validating
    # directly and get ValidationError with per-field locations; only a direct call
    # like ``KubernetesRun(...)`` raises RunConfigError.
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    def public_dict(self) -> dict[str, Any]:
        """The JSON dump, with secret-looking values replaced by ``***``, for display."""
        return mask_config(self.model_dump(mode="json"))

    def masked(self) -> Self:
        """A copy with secret-looking values replaced by ``***``; never launch it."""
        return self.__class__.model_validate(self.public_dict())

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Self:
        """A copy; with ``update`` it is validated like a new config.

        pydantic's own ``model_copy(update=...)`` skips validation, which would let an
        invalid value into a config that cannot be changed afterwards.
        """
        if not update:
            return super().model_copy(deep=deep)
        return self.__class__(**{**self.model_dump(), **update})

    def __hash__(self) -> int:
        # pydantic's frozen hash would hash the env dict and labels list, and fail.
        return hash(json.dumps(self.model_dump(mode="json"), sort_keys=True))

    def __str__(self) -> str:
        # pydantic's str drops the class name, which is the most telling part in a log line.
        return repr(self)

    def __repr_args__(self) -> Iterator[tuple[str | None, Any]]:
        # Notebooks show the repr, and notebooks get committed: show only what was set,
        # with secrets masked.
        public = self.public_dict()
        for name, field in self.__class__.model_fields.items():
            if name != "type" and getattr(self, name) != field.get_default(
                call_default_factory=True
            ):
                yield name, public[name]
