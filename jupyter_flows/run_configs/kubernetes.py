"""KubernetesRun: run a flow as a Kubernetes Job created by a Kubernetes agent."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, ValidationInfo, field_validator

from jupyter_flows.run_configs.base import RunConfig
from jupyter_flows.run_configs.documents import inline_local
from jupyter_flows.run_configs.fields import (
    ImageRef,
    JsonObject,
    KubernetesName,
    NonBlankStr,
    rule_error,
)
from jupyter_flows.run_configs.quantities import KubernetesCpu, KubernetesMemory, quantity_value


def _check_template(value: Any) -> Any:
    if isinstance(value, dict) or (isinstance(value, str) and value.strip()):
        return value
    raise rule_error("job_template", f"expected a Job as a JSON object or YAML text, got {value!r}")


# YAML text is kept as given (Prefect accepted it); the agent parses it, so importing
# run configs never needs a YAML library.
JobTemplate = Annotated[JsonObject | str, BeforeValidator(_check_template)]


class KubernetesRun(RunConfig):
    """Run the flow as a Kubernetes Job.

    The agent starts from ``job_template`` / ``job_template_path`` (or its own default
    template) and fills in the image, resources, service account and pull settings given
    here.
    """

    type: Literal["kubernetes"] = Field(default="kubernetes", description="Always 'kubernetes'.")
    image: ImageRef | None = Field(
        default=None,
        description="Image of the flow container. Default: the storage's image, or the agent's.",
        examples=["ghcr.io/acme/flows:1.4"],
    )
    job_template: JobTemplate | None = Field(
        default=None,
        description="A Job manifest to start from, as an object or YAML text. "
        "Not together with job_template_path.",
    )
    job_template_path: NonBlankStr | None = Field(
        default=None,
        description="A Job template file: a local path is read when the config is made (into "
        "job_template); s3://..., gcs://... or agent:///path (on the agent's machine) are "
        "read by the agent. Not together with job_template.",
    )
    cpu_request: KubernetesCpu | None = Field(
        default=None,
        description="CPU the flow container requests: cores or a quantity.",
        examples=["500m", 2],
    )
    cpu_limit: KubernetesCpu | None = Field(
        default=None,
        description="Most CPU the flow container may use: cores or a quantity.",
        examples=["2", 4],
    )
    memory_request: KubernetesMemory | None = Field(
        default=None,
        description="Memory the flow container requests: a quantity or bytes.",
        examples=["512Mi", "4Gi"],
    )
    memory_limit: KubernetesMemory | None = Field(
        default=None,
        description="Most memory the flow container may use: a quantity or bytes.",
        examples=["4Gi"],
    )
    service_account_name: KubernetesName | None = Field(
        default=None, description="Service account the Job's pod runs as.", examples=["flow-runner"]
    )
    image_pull_secrets: list[KubernetesName] | None = Field(
        default=None, description="Names of secrets used to pull the image.", examples=[["regcred"]]
    )
    image_pull_policy: Literal["Always", "IfNotPresent", "Never"] | None = Field(
        default=None, description="When the kubelet pulls the image. Default: Kubernetes' own."
    )

    def __init__(self, /, **data: Any) -> None:
        super().__init__(**inline_local("KubernetesRun", data, "job_template_path",
                                        "job_template"))

    # only a direct call reads local files (see RunConfig.__init__): configs validated from
    # stored JSON, on the backend or an agent, keep their path as it is
    __init__.__pydantic_base_init__ = True  # type: ignore[attr-defined]

    @field_validator("job_template_path")
    @classmethod
    def _one_template(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("job_template") is not None:
            raise rule_error("exclusive", "expected job_template or job_template_path, not both")
        return value

    @field_validator("cpu_limit", "memory_limit")
    @classmethod
    def _limit_covers_request(cls, value: Any, info: ValidationInfo) -> Any:
        # Kubernetes rejects a pod whose request exceeds its limit; say so before launch.
        request_field = info.field_name.replace("_limit", "_request") if info.field_name else ""
        request = info.data.get(request_field)
        if (
            value is not None
            and request is not None
            and (quantity_value(request) > quantity_value(value))
        ):
            raise rule_error(
                "limit_below_request",
                f"expected at least {request_field} ({request!r}), got {value!r}",
            )
        return value
