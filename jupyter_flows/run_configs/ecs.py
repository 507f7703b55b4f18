"""ECSRun: run a flow as an AWS ECS task started by an ECS agent."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, ValidationInfo, WithJsonSchema, field_validator

from jupyter_flows.run_configs.base import RunConfig
from jupyter_flows.run_configs.documents import inline_local
from jupyter_flows.run_configs.fields import (
    ImageRef,
    JsonObject,
    NonBlankStr,
    anchored,
    rule_error,
)
from jupyter_flows.run_configs.quantities import EcsCpu, EcsMemory

# aws, aws-cn, aws-us-gov, aws-iso, ...: GovCloud and China accounts are accounts too.
_PARTITION = r"aws(?:-[a-z]+)*"
_REGION = r"[a-z]{2}(?:-[a-z]+)+-[0-9]+"
_ACCOUNT = r"[0-9]{12}"
_IAM_NAME = r"[A-Za-z0-9_+=,.@-]"
_FAMILY = r"[A-Za-z0-9_-]{1,255}(?::[1-9][0-9]*)?"

ROLE_ARN_PATTERN = rf"arn:{_PARTITION}:iam::{_ACCOUNT}:role/(?:{_IAM_NAME}+/)*{_IAM_NAME}{{1,64}}"
ROLE_NAME_PATTERN = rf"{_IAM_NAME}{{1,64}}"
# ECS takes a task role by name too (it resolves it in the task's account)
ROLE_REF_PATTERN = rf"{ROLE_ARN_PATTERN}|{ROLE_NAME_PATTERN}"
TASK_DEFINITION_ARN_PATTERN = (
    rf"arn:{_PARTITION}:ecs:{_REGION}:{_ACCOUNT}:task-definition/{_FAMILY}"
)
# ECS (and Prefect's ECSRun) also take "family" or "family:revision" for a registered one.
TASK_DEFINITION_REF_PATTERN = rf"{TASK_DEFINITION_ARN_PATTERN}|{_FAMILY}"

_TASK_DEFINITION_FIELDS = ("task_definition", "task_definition_path", "task_definition_arn")


def _role_arn(value: str) -> str:
    if not re.fullmatch(ROLE_ARN_PATTERN, value):
        raise rule_error(
            "role_arn",
            f"expected an IAM role ARN like 'arn:aws:iam::123456789012:role/flow-runner', "
            f"got {value!r}",
        )
    return value


def _role_ref(value: str) -> str:
    if not re.fullmatch(ROLE_REF_PATTERN, value):
        raise rule_error(
            "role_ref",
            "expected an IAM role name like 'flow-runner' or an ARN like "
            f"'arn:aws:iam::123456789012:role/flow-runner', got {value!r}",
        )
    return value


def _task_definition_ref(value: str) -> str:
    if not re.fullmatch(TASK_DEFINITION_REF_PATTERN, value):
        raise rule_error(
            "task_definition_arn",
            "expected a task definition ARN like "
            "'arn:aws:ecs:us-east-1:123456789012:task-definition/flow:3' "
            f"or a family[:revision] like 'flow:3', got {value!r}",
        )
    return value


RoleArn = Annotated[
    str,
    AfterValidator(_role_arn),
    WithJsonSchema({"type": "string", "pattern": anchored(ROLE_ARN_PATTERN)}),
]
RoleRef = Annotated[
    str,
    AfterValidator(_role_ref),
    WithJsonSchema({"type": "string", "pattern": anchored(ROLE_REF_PATTERN)}),
]
TaskDefinitionRef = Annotated[
    str,
    AfterValidator(_task_definition_ref),
    WithJsonSchema({"type": "string", "pattern": anchored(TASK_DEFINITION_REF_PATTERN)}),
]


class ECSRun(RunConfig):
    """Run the flow as an ECS task.

    The task definition comes from at most one of ``task_definition``,
    ``task_definition_path`` and ``task_definition_arn`` (none: the agent's default); the
    other fields override it for this run.
    """

    type: Literal["ecs"] = Field(default="ecs", description="Always 'ecs'.")
    image: ImageRef | None = Field(
        default=None,
        description="Image of the flow container. Not with task_definition_arn, whose "
        "registered definition fixes the image.",
        examples=["123456789012.dkr.ecr.us-east-1.amazonaws.com/flows:1.4"],
    )
    task_definition: JsonObject | None = Field(
        default=None, description="A task definition, as register_task_definition takes it."
    )
    task_definition_path: NonBlankStr | None = Field(
        default=None,
        description="A task definition file: a local path is read when the config is made "
        "(into task_definition); s3://..., gcs://... or agent:///path (on the agent's "
        "machine) are read by the agent.",
    )
    task_definition_arn: TaskDefinitionRef | None = Field(
        default=None,
        description="A registered task definition: its ARN, or family[:revision].",
        examples=["arn:aws:ecs:us-east-1:123456789012:task-definition/flow:3"],
    )
    cpu: EcsCpu | None = Field(
        default=None,
        description="CPU for the task: CPU units (1024 = 1 vCPU) or a string like '1 vCPU'.",
        examples=[1024, "1 vCPU"],
    )
    memory: EcsMemory | None = Field(
        default=None,
        description="Memory for the task: MiB or a string like '2 GB'.",
        examples=[2048, "2 GB"],
    )
    task_role_arn: RoleRef | None = Field(
        default=None,
        description="IAM role the flow's code runs as (its AWS permissions): a role name or ARN.",
        examples=["flow-runner", "arn:aws:iam::123456789012:role/flow-runner"],
    )
    execution_role_arn: RoleArn | None = Field(
        default=None, description="IAM role ECS uses to pull the image and write logs."
    )
    run_task_kwargs: JsonObject | None = Field(
        default=None,
        description="Extra run_task arguments, e.g. cluster, launchType, networkConfiguration.",
        examples=[{"cluster": "flows", "launchType": "FARGATE"}],
    )

    def __init__(self, /, **data: Any) -> None:
        super().__init__(**inline_local("ECSRun", data, "task_definition_path",
                                        "task_definition"))

    # only a direct call reads local files, as in KubernetesRun
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @field_validator("task_definition_path", "task_definition_arn")
    @classmethod
    def _one_task_definition(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return value
        given = [f for f in _TASK_DEFINITION_FIELDS if info.data.get(f) is not None]
        if given:
            raise rule_error(
                "exclusive",
                "expected at most one of task_definition, task_definition_path and "
                f"task_definition_arn, got {' and '.join([*given, str(info.field_name)])}",
            )
        if info.field_name == "task_definition_arn" and info.data.get("image") is not None:
            raise rule_error(
                "arn_with_image",
                "a registered task definition fixes the image; drop image, or give "
                "task_definition instead",
            )
        return value
