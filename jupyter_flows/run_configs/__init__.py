"""Run configs: where a flow run executes (local process, Docker, Kubernetes, ECS, any agent).

Each is a small frozen pydantic model with a ``type`` discriminator, JSON in and out and a
JSON schema; field names follow Prefect 0.14 so existing configs carry over. Agents read
them to launch runs; ``labels`` decide which agents may.
"""

from __future__ import annotations

from jupyter_flows.errors import RunConfigError
from jupyter_flows.run_configs.base import RunConfig
from jupyter_flows.run_configs.docker import DockerRun
from jupyter_flows.run_configs.ecs import ECSRun
from jupyter_flows.run_configs.kubernetes import KubernetesRun
from jupyter_flows.run_configs.labels import (
    agent_mismatch,
    describe_mismatch,
    labels_match,
    run_config_types,
)
from jupyter_flows.run_configs.local import LocalRun
from jupyter_flows.run_configs.parse import (
    RUN_CONFIG_TYPES,
    AnyRunConfig,
    run_config_from_config,
    run_config_schema,
)
from jupyter_flows.run_configs.universal import UniversalRun

__all__ = [
    "RUN_CONFIG_TYPES",
    "AnyRunConfig",
    "DockerRun",
    "ECSRun",
    "KubernetesRun",
    "LocalRun",
    "RunConfig",
    "RunConfigError",
    "UniversalRun",
    "agent_mismatch",
    "describe_mismatch",
    "labels_match",
    "run_config_from_config",
    "run_config_schema",
    "run_config_types",
]
