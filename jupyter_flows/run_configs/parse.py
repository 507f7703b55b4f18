"""Reading run configs: the discriminated union, its JSON schema, and the lenient parser."""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from types import MappingProxyType
from typing import Annotated, Any

from pydantic import Field, TypeAdapter

from jupyter_flows.configs import ConfigKind
from jupyter_flows.errors import RunConfigError
from jupyter_flows.run_configs.base import RunConfig
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

RUN_CONFIGS: ConfigKind[RunConfig] = ConfigKind(
    "run config", RunConfig, RunConfigError, lambda: list(RUN_CONFIG_TYPES.values()),
    default=UniversalRun)
"""Run configs: ``type`` tags, aliases (Prefect 0.14's class names), the loader."""


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
    return RUN_CONFIGS.load(value)
