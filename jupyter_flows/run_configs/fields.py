"""Field types shared by run configs, each carrying its rule, its message and its JSON schema."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, JsonValue, WithJsonSchema
from pydantic_core import PydanticCustomError

from jupyter_flows.run_configs.labels import normalize_labels

ENV_NAME_PATTERN = r"[A-Za-z_][A-Za-z0-9_]*"
# An RFC 1123 subdomain: what Kubernetes accepts for service account and secret names.
KUBERNETES_NAME_PATTERN = r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*"


def rule_error(kind: str, message: str) -> PydanticCustomError:
    """A validation error whose text is exactly ``message``.

    The message goes in through the context so braces in user input are never read as
    template fields, and pydantic adds no "Value error, " prefix.
    """
    return PydanticCustomError(kind, "{message}", {"message": message})


def anchored(pattern: str) -> str:
    """``pattern`` as a whole-string JSON schema pattern (JSON schema patterns are unanchored)."""
    return f"^(?:{pattern})$"


def _non_blank(value: str) -> str:
    if not value.strip():
        raise rule_error("non_blank", f"expected a non-empty string, got {value!r}")
    return value


def _image(value: str) -> str:
    if not value or any(c.isspace() for c in value):
        raise rule_error(
            "image", f"expected an image reference like 'python:3.11-slim', got {value!r}"
        )
    return value


def _kubernetes_name(value: str) -> str:
    if len(value) > 253 or not re.fullmatch(KUBERNETES_NAME_PATTERN, value):
        raise rule_error(
            "kubernetes_name",
            "expected a Kubernetes name like 'flow-runner' (lowercase letters, digits, "
            f"'-' and '.'), got {value!r}",
        )
    return value


def _env_names(env: dict[str, str]) -> dict[str, str]:
    """Names a shell, Docker, Kubernetes and ECS all accept."""
    for name in env:
        if not re.fullmatch(ENV_NAME_PATTERN, name):
            raise rule_error(
                "env_name",
                "expected variable names like 'API_URL' (letters, digits and '_', "
                f"not starting with a digit), got {name!r}",
            )
    return env


def _labels(labels: list[str]) -> list[str]:
    try:
        return normalize_labels(labels)
    except ValueError as exc:
        raise rule_error("label", str(exc)) from None


NonBlankStr = Annotated[
    str, AfterValidator(_non_blank), WithJsonSchema({"type": "string", "pattern": r"\S"})
]
ImageRef = Annotated[
    str, AfterValidator(_image), WithJsonSchema({"type": "string", "pattern": r"^\S+$"})
]
KubernetesName = Annotated[
    str,
    AfterValidator(_kubernetes_name),
    WithJsonSchema(
        {"type": "string", "pattern": anchored(KUBERNETES_NAME_PATTERN), "maxLength": 253}
    ),
]
JsonObject = dict[str, JsonValue]

# Prefect serialized absent env and labels as null, so null reads as empty.
EnvVars = Annotated[
    dict[str, str],
    BeforeValidator(lambda value: {} if value is None else value),
    AfterValidator(_env_names),
]
Labels = Annotated[
    list[str],
    BeforeValidator(lambda value: [] if value is None else value),
    AfterValidator(_labels),
]
