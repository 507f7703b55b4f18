"""Job templates and task definitions named by path: a local file is read when the config
is made (as Prefect 1.x did), anything else is read later by the agent.

``job.yaml``, ``/abs/job.yaml``, ``file:///abs/job.yaml`` and ``local:///abs/job.yaml`` are
local; ``s3://...``, ``gcs://...`` and ``agent:///path/on/the/agent`` are read on the agent.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from jupyter_flows.errors import RunConfigError

LOCAL_SCHEMES = ("file", "local")
AGENT_SCHEME = "agent://"


def local_path(location: str) -> Path | None:
    """The file ``location`` names on this machine, or None if the agent reads it."""
    parsed = urlparse(location)
    if parsed.scheme in LOCAL_SCHEMES:
        return Path(parsed.netloc + parsed.path)
    if parsed.scheme and len(parsed.scheme) > 1:  # a one-letter scheme is a drive: C:\\...
        return None
    return Path(location)


def read_local_document(model: str, field: str, location: str) -> dict[str, Any]:
    """The YAML/JSON mapping in the local file ``location``; errors name ``model.field``."""
    import yaml

    path = local_path(location)
    assert path is not None
    where = f"{model}.{field}"
    try:
        text = path.expanduser().read_text(encoding="utf-8")
    except FileNotFoundError:
        raise RunConfigError(
            f"{where}: no file at {location!r} (a local path is read when the config is"
            f" made; write {AGENT_SCHEME}{path.absolute()} for a file on the agent's machine)"
        ) from None
    except OSError as exc:
        raise RunConfigError(f"{where}: cannot read {location!r}: {exc}") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise RunConfigError(f"{where}: {location!r} is not valid YAML{at}: {problem}") from None
    if not isinstance(document, dict):
        raise RunConfigError(
            f"{where}: {location!r} must hold a YAML mapping, got {type(document).__name__}")
    return document


def inline_local(model: str, data: dict[str, Any], path_field: str,
                 document_field: str) -> dict[str, Any]:
    """``data`` with a local ``path_field`` read into ``document_field`` (and cleared)."""
    location = data.get(path_field)
    if not isinstance(location, str) or not location.strip() or local_path(location) is None:
        return data
    if data.get(document_field) is not None:
        raise RunConfigError(
            f"{model}.{path_field}: expected {document_field} or {path_field}, not both")
    document = read_local_document(model, path_field, location)
    return {**data, document_field: document, path_field: None}
