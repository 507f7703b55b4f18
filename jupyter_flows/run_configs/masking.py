"""Hiding secret values when a run config is shown to people, never when it is launched.

A name looks secret when it contains one of ``SECRET_WORDS`` (any case). Masked are the
values of such keys in ``env``, and of ``{"name": ..., "value": ...}`` entries anywhere in
nested templates, which is how both Kubernetes containers (``env``) and ECS container
definitions and overrides (``environment``) spell environment variables.
"""

from __future__ import annotations

from typing import Any

SECRET_WORDS = ("KEY", "SECRET", "TOKEN", "PASSWORD", "PASSWD", "CREDENTIAL")
MASK = "***"


def looks_secret(name: str) -> bool:
    """Whether a variable called ``name`` probably holds a secret."""
    upper = name.upper()
    return any(word in upper for word in SECRET_WORDS)


def mask_env(env: dict[str, str]) -> dict[str, str]:
    return {name: MASK if looks_secret(name) else value for name, value in env.items()}


def mask_nested(value: Any) -> Any:
    """A copy of JSON data with the values of secret-looking name/value entries masked."""
    if isinstance(value, dict):
        name = value.get("name")
        if "value" in value and isinstance(name, str) and looks_secret(name):
            return {**value, "value": MASK}
        return {k: mask_nested(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_nested(v) for v in value]
    return value


def mask_config(data: dict[str, Any]) -> dict[str, Any]:
    """A run config's JSON dump with every secret-looking value replaced by ``MASK``."""
    return {
        key: mask_env(value) if key == "env" else mask_nested(value) for key, value in data.items()
    }
