"""Reading run configs: the discriminated union, its JSON schema, and the lenient parser."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import cache
from types import MappingProxyType
from typing import Annotated, Any

from pydantic import Field, TypeAdapter, ValidationError

from jupyter_flows.errors import RunConfigError
from jupyter_flows.run_configs.base import RunConfig, describe_validation_error
from jupyter_flows.run_configs.docker import DockerRun
from jupyter_flows.run_configs.ecs import ECSRun
from jupyter_flows.run_configs.kubernetes import KubernetesRun
from jupyter_flows.run_configs.local import LocalRun
from jupyter_flows.run_configs.universal import UniversalRun

AnyRunConfig = Annotated[
    LocalRun | DockerRun | KubernetesRun | ECSRun | UniversalRun,
    Field(discriminator="type"),
]
"""Any run config; use it as a pydantic field type where a run config is stored."""

RUN_CONFIG_TYPES: Mapping[str, type[RunConfig]] = MappingProxyType(
    {
        cls.model_fields["type"].default: cls
        for cls in (LocalRun, DockerRun, KubernetesRun, ECSRun, UniversalRun)
    }
)
"""The run config model of each ``type``, in the order messages list them."""

# Prefect 0.14 serialized run configs with their class name as the type.
_ALIASES = {cls.__name__: kind for kind, cls in RUN_CONFIG_TYPES.items()}
_TYPE_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


@cache
def _adapter() -> TypeAdapter[Any]:
    return TypeAdapter(AnyRunConfig)


def run_config_schema() -> dict[str, Any]:
    """The JSON schema of ``AnyRunConfig``: one model per ``type``, for forms and the API."""
    return {"title": "RunConfig", **_adapter().json_schema()}


def run_config_from_config(
    value: RunConfig | Mapping[str, Any] | str | bytes | None,
) -> RunConfig:
    """A run config from a RunConfig, a dict, JSON text, or a bare type name.

    ``None`` is ``UniversalRun()``: no platform preference. ``type`` may also be the
    Prefect class name ("KubernetesRun"), and Prefect's ``__version__`` key is ignored, so
    configs serialized by Prefect 0.14 load. Anything wrong raises ``RunConfigError``.
    """
    if isinstance(value, RunConfig):
        return value
    if value is None:
        return UniversalRun()
    if isinstance(value, str | bytes):
        value = _load_text(value)
    if not isinstance(value, Mapping):
        raise RunConfigError(
            f"a run config must be a RunConfig, a dict or JSON text, got {type(value).__name__}"
        )
    data = {key: v for key, v in value.items() if key != "__version__"}
    if "type" not in data:
        raise RunConfigError(f"run config has no 'type'; known types: {_known()}")
    kind = _ALIASES.get(data["type"], data["type"]) if isinstance(data["type"], str) else None
    model = RUN_CONFIG_TYPES.get(kind) if kind is not None else None
    if model is None:
        raise RunConfigError(f"unknown run config type {data['type']!r}; known types: {_known()}")
    try:
        return model.model_validate({**data, "type": kind})
    except ValidationError as exc:
        raise RunConfigError(describe_validation_error(model, exc)) from None


def _load_text(text: str | bytes) -> Any:
    if isinstance(text, bytes):
        try:
            text = text.decode()
        except UnicodeDecodeError as exc:
            raise RunConfigError(f"run config text is not UTF-8: {exc.reason}") from None
    stripped = text.strip()
    if _TYPE_NAME.fullmatch(stripped):
        return {"type": stripped}
    try:
        value = json.loads(stripped)
    except json.JSONDecodeError as exc:
        raise RunConfigError(
            f"run config is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    if not isinstance(value, dict):
        raise RunConfigError(
            f"a run config must be a JSON object, got {type(value).__name__}: {stripped[:40]}"
        )
    return value


def _known() -> str:
    return ", ".join(RUN_CONFIG_TYPES)
