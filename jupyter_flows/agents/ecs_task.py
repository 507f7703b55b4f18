"""The ECS task definition and run_task arguments an ECS agent uses for a flow run.

The task definition is, first found: the run config's ``task_definition``, the one at its
``task_definition_path`` (read by the agent), the agent's own, ``default_task_definition``;
or, with ``task_definition_arn``, one already registered, used as it is. Onto it go the
image of the flow container (the one named ``flow``, else the first: run config >
definition > agent ``--image``), task cpu/memory and the task and execution roles (run
config > definition > agent). The result is registered only when no revision of its
family carries its content hash in the ``jupyter-flows-hash`` tag, so runs share
revisions; the family defaults to ``jupyter-flows-<flow name>``.

What differs per run never goes into the definition: the command and environment travel
as container overrides of run_task, whose other arguments are, lowest to highest
precedence: cluster, launch type or capacity provider, network configuration, the agent's
``run_task_kwargs``, the run config's ``run_task_kwargs`` (merged last; dicts merge key
by key, ``overrides.containerOverrides`` by container name).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from jupyter_flows.agents.base import RunRefused
from jupyter_flows.agents.containers import deep_merge

FLOW_CONTAINER = "flow"
HASH_TAG = "jupyter-flows-hash"
# what describe_task_definition returns that register_task_definition does not take
_READ_ONLY = ("taskDefinitionArn", "revision", "status", "requiresAttributes",
              "compatibilities", "registeredAt", "registeredBy", "deregisteredAt")


def default_task_definition(family: str) -> dict[str, Any]:
    """One container, awsvpc networking (what Fargate needs, and EC2 accepts)."""
    return {"family": family, "networkMode": "awsvpc",
            "containerDefinitions": [{"name": FLOW_CONTAINER, "essential": True}]}


def family_for(flow_name: str) -> str:
    """A task definition family for a flow: ``jupyter-flows-<name>`` in ECS's alphabet."""
    slug = re.sub(r"[^A-Za-z0-9_-]+", "-", flow_name).strip("-") or "flow"
    return f"jupyter-flows-{slug}"[:255]


def cpu_units(value: int | str) -> int:
    """ECSRun.cpu as CPU units: 1024, or '1 vCPU' -> 1024, '0.25 vcpu' -> 256."""
    if isinstance(value, int):
        return value
    number = Decimal(re.sub(r"[^0-9.]", "", value))
    return int(number * 1024) if "cpu" in value.lower() else int(number)


def memory_mib(value: int | str) -> int:
    """ECSRun.memory as MiB: 2048, or '2 GB' -> 2048."""
    if isinstance(value, int):
        return value
    number = Decimal(re.sub(r"[^0-9.]", "", value))
    return int(number * 1024) if "gb" in value.lower() else int(number)


def check_definition(definition: Any, what: str) -> dict[str, Any]:
    """A copy of a task definition that names its containers, or ``RunRefused``."""
    if not isinstance(definition, Mapping):
        raise RunRefused(f"{what}: expected a task definition (a mapping), got"
                         f" {type(definition).__name__}")
    # a definition as describe_task_definition prints it is wrapped once
    if "taskDefinition" in definition and isinstance(definition["taskDefinition"], Mapping):
        definition = definition["taskDefinition"]
    containers = definition.get("containerDefinitions")
    if not isinstance(containers, list) or not containers:
        raise RunRefused(f"{what}: the task definition has no containerDefinitions; add one"
                         f" (e.g. name: {FLOW_CONTAINER}), the agent fills in its image")
    for i, container in enumerate(containers):
        if not isinstance(container, Mapping) or not container.get("name"):
            raise RunRefused(f"{what}: containerDefinitions[{i}] needs a name")
    return {k: copy.deepcopy(v) for k, v in definition.items() if k not in _READ_ONLY}


def flow_container(definition: Mapping[str, Any]) -> dict[str, Any]:
    containers: list[dict[str, Any]] = definition["containerDefinitions"]
    for container in containers:
        if container.get("name") == FLOW_CONTAINER:
            return container
    return containers[0]


def build_task_definition(base: Mapping[str, Any], *, what: str, family: str,
                          image: str | None, cpu: int | str | None, memory: int | str | None,
                          task_role_arn: str | None, execution_role_arn: str | None,
                          compatibility: str | None) -> dict[str, Any]:
    """The definition to register: ``base`` with the run's image, size and roles.

    Values given here win over ``base``'s; ``compatibility`` (FARGATE, EC2) is added to
    ``requiresCompatibilities`` when ``base`` names none.
    """
    definition = check_definition(base, what)
    definition.setdefault("family", family)
    container = flow_container(definition)
    if image:
        container["image"] = image
    if not container.get("image"):
        raise RunRefused(
            f"{what}: container {container['name']!r} has no image; set ECSRun.image or an"
            " image in the task definition, start the ECS agent with --image, or give"
            " ECSRun.task_definition_arn")
    _set_size_and_roles(definition, cpu, memory, task_role_arn, execution_role_arn)
    if compatibility and not definition.get("requiresCompatibilities"):
        definition["requiresCompatibilities"] = [compatibility]
    if compatibility == "FARGATE":
        # Fargate needs task-level cpu and memory; these are its smallest usual pair
        definition.setdefault("cpu", "1024")
        definition.setdefault("memory", "2048")
    containers = definition["containerDefinitions"]
    if len(containers) == 1:
        # the EC2 launch type needs a container-level size when the task has none of its
        # own, and a lone container may take the whole task's
        if definition.get("cpu") and "cpu" not in container:
            container["cpu"] = int(definition["cpu"])
        if definition.get("memory") and "memory" not in container \
                and "memoryReservation" not in container:
            container["memory"] = int(definition["memory"])
    container.setdefault("essential", True)
    return definition


def definition_hash(definition: Mapping[str, Any]) -> str:
    """The content hash a registered revision is tagged with (key order does not count)."""
    text = json.dumps(definition, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def task_overrides(container: str, command: list[str], env: Mapping[str, str], *,
                   cpu: int | str | None = None, memory: int | str | None = None,
                   task_role_arn: str | None = None, execution_role_arn: str | None = None
                   ) -> dict[str, Any]:
    """run_task ``overrides``: the run's command and environment, and (with a registered
    task definition that cannot be changed) its size and roles."""
    overrides: dict[str, Any] = {"containerOverrides": [{
        "name": container, "command": list(command),
        "environment": [{"name": k, "value": v} for k, v in env.items()]}]}
    _set_size_and_roles(overrides, cpu, memory, task_role_arn, execution_role_arn)
    return overrides


def _set_size_and_roles(target: dict[str, Any], cpu: int | str | None,
                        memory: int | str | None, task_role_arn: str | None,
                        execution_role_arn: str | None) -> None:
    """Task-level cpu, memory and roles, spelled alike in a task definition and in
    run_task overrides."""
    if cpu is not None:
        target["cpu"] = str(cpu_units(cpu))
    if memory is not None:
        target["memory"] = str(memory_mib(memory))
    if task_role_arn:
        target["taskRoleArn"] = task_role_arn
    if execution_role_arn:
        target["executionRoleArn"] = execution_role_arn


def merge_run_task_kwargs(base: Mapping[str, Any], extra: Mapping[str, Any] | None
                          ) -> dict[str, Any]:
    """``extra`` over ``base``, as the module docstring says; a launch type and a capacity
    provider strategy exclude each other, so the one ``extra`` gives wins."""
    if not extra:
        return dict(base)
    merged = deep_merge(base, {k: v for k, v in extra.items() if k != "overrides"})
    if "capacityProviderStrategy" in extra:
        merged.pop("launchType", None)
    elif "launchType" in extra:
        merged.pop("capacityProviderStrategy", None)
    extra_overrides = extra.get("overrides")
    if isinstance(extra_overrides, Mapping):
        overrides = dict(base.get("overrides") or {})
        by_name = {c.get("name"): dict(c) for c in overrides.get("containerOverrides") or []}
        for container in extra_overrides.get("containerOverrides") or []:
            name = container.get("name")
            if name in by_name:
                by_name[name] = _merge_container_override(by_name[name], container)
            else:
                by_name[name] = dict(container)
        rest = {k: v for k, v in extra_overrides.items() if k != "containerOverrides"}
        overrides = deep_merge(overrides, rest)
        if by_name:
            overrides["containerOverrides"] = list(by_name.values())
        merged["overrides"] = overrides
    return merged


def _merge_container_override(ours: Mapping[str, Any], theirs: Mapping[str, Any]
                              ) -> dict[str, Any]:
    merged = {**ours, **{k: v for k, v in theirs.items() if k != "environment"}}
    if "environment" in theirs:
        env = {e["name"]: e for e in ours.get("environment") or []}
        env.update({e["name"]: e for e in theirs.get("environment") or []})
        merged["environment"] = list(env.values())
    return merged
