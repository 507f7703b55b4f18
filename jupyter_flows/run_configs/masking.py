"""Hiding secret values when configs and parameters are shown to people, never when a run
is launched (the agent's claim gets them in full).

The rule, in one place:

* A **name** looks secret when it contains one of ``SECRET_WORDS`` (any case:
  ``GITHUB_TOKEN``, ``PGPASS``, ``PASSPHRASE``, ``SLACK_WEBHOOK_URL``, ``SENTRY_DSN``,
  ``apiKey``), or has one of ``SECRET_TOKENS`` as a whole word (``GITHUB_PAT``, but not
  ``PATH``). The value of a secret-looking name is replaced by ``MASK``.
* A **URL with credentials** in it (``postgresql://user:pw@host/db``) keeps everything but
  the password, wherever it appears: ``postgresql://user:***@host/db``.

Masked are: ``env`` (a name -> value map) and ``{"name": ..., "value": ...}`` entries
anywhere in nested templates, which is how both Kubernetes containers (``env``) and ECS
container definitions and overrides (``environment``) spell environment variables; keys of
parameters, storage and executor configs, at any depth; and credentials in every URL.
"""

from __future__ import annotations

import re
from typing import Any

#: Parts of a name that mark it secret wherever they appear in it.
SECRET_WORDS = ("KEY", "SECRET", "TOKEN", "PASSWORD", "PASSWD", "PASS", "CREDENTIAL", "AUTH",
                "WEBHOOK", "DSN")
#: Words that mark a name secret only as a whole word (``PAT`` is in ``PATH``).
SECRET_TOKENS = ("PAT",)
MASK = "***"

_WORDS = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z0-9]+(?![a-z])")
# scheme://user:password@ -- up to the last "@" before the path, so that a password with
# an unescaped "@" in it is masked whole
_URL_CREDENTIALS = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^:/@\s]*:)"
                              r"(?P<password>[^/\s]+)(?P<at>@)")


def looks_secret(name: str) -> bool:
    """Whether a variable called ``name`` probably holds a secret."""
    upper = name.upper()
    if any(word in upper for word in SECRET_WORDS):
        return True
    return any(part.upper() in SECRET_TOKENS for part in _WORDS.findall(name))


def mask_url(text: str) -> str:
    """``text`` with the password of every ``scheme://user:password@host`` in it masked."""
    if "://" not in text:
        return text
    return _URL_CREDENTIALS.sub(lambda m: f"{m['head']}{MASK}{m['at']}", text)


def _strings(value: Any) -> Any:
    """Credentials in URLs masked in every string of JSON data."""
    if isinstance(value, str):
        return mask_url(value)
    if isinstance(value, dict):
        return {k: _strings(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_strings(v) for v in value]
    return value


def mask_env(env: dict[str, Any]) -> dict[str, Any]:
    return {name: MASK if looks_secret(name) else _strings(value) for name, value in env.items()}


def mask_nested(value: Any) -> Any:
    """A copy of JSON data with the values of secret-looking name/value entries masked, and
    credentials in URLs."""
    if isinstance(value, dict):
        name = value.get("name")
        if "value" in value and isinstance(name, str) and looks_secret(name):
            return {**{k: mask_nested(v) for k, v in value.items() if k != "value"},
                    "value": MASK}
        return {k: mask_nested(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_nested(v) for v in value]
    return _strings(value)


def mask_keys(value: Any) -> Any:
    """A copy of JSON data with the value of every secret-looking key masked, at any depth
    (parameters, storage and executor configs), and credentials in URLs."""
    if isinstance(value, dict):
        return {k: MASK if isinstance(k, str) and looks_secret(k) and v is not None
                else mask_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_keys(v) for v in value]
    return _strings(value)


def mask_config(data: dict[str, Any]) -> dict[str, Any]:
    """A run config's JSON dump with every secret-looking value replaced by ``MASK``."""
    return {
        key: mask_env(value) if key == "env" and isinstance(value, dict) else mask_nested(value)
        for key, value in data.items()
    }
