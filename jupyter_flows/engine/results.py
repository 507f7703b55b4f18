"""Result locations: where checkpointed task results are written and read back.

``Result("/data/results")`` or ``Result("s3://bucket/prefix")``: any fsspec URL works. A
``target`` template on a task (``"{task_name}/{today}.pkl"``) makes a run that finds the
file already there reuse it (``Cached``) instead of running the task again.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Callable, Mapping
from typing import Any

import cloudpickle

from jupyter_flows.errors import ResultConfigError, ResultError

_SERIALIZERS: dict[str, tuple[Callable[[Any], bytes], Callable[[bytes], Any]]] = {
    "pickle": (cloudpickle.dumps, cloudpickle.loads),
    "json": (lambda v: json.dumps(v).encode(), lambda b: json.loads(b.decode())),
}


class Result:
    """A directory or fsspec URL holding checkpointed results, with a serializer.

    ``best_effort``: a result that cannot be written is logged and the task run succeeds
    without a checkpoint (the default location of backend runs, which nobody asked for,
    must not fail a task whose result does not pickle)."""

    def __init__(self, location: str, serializer: str = "pickle",
                 storage_options: Mapping[str, Any] | None = None, *,
                 best_effort: bool = False) -> None:
        if serializer not in _SERIALIZERS:
            raise ResultConfigError(
                f"Result.serializer: expected one of {sorted(_SERIALIZERS)}, got {serializer!r}"
            )
        self.location = str(location).rstrip("/")
        self.serializer = serializer
        self.storage_options = dict(storage_options or {})
        self.best_effort = best_effort

    def __repr__(self) -> str:
        return f"Result({self.location!r}, serializer={self.serializer!r})"

    def _fs(self) -> tuple[Any, str]:
        import fsspec

        fs, _, paths = fsspec.get_fs_token_paths(
            self.location, storage_options=self.storage_options
        )
        return fs, paths[0]

    def path(self, relative: str) -> str:
        """The full location of ``relative`` under this result's root."""
        return f"{self.location}/{relative.lstrip('/')}"

    def exists(self, relative: str) -> bool:
        fs, root = self._fs()
        return bool(fs.exists(f"{root}/{relative.lstrip('/')}"))

    def write(self, relative: str, value: Any) -> str:
        """Serialize ``value`` to ``relative``; returns the full location."""
        fs, root = self._fs()
        path = f"{root}/{relative.lstrip('/')}"
        dumps = _SERIALIZERS[self.serializer][0]
        try:
            data = dumps(value)
            parent = path.rsplit("/", 1)[0]
            fs.makedirs(parent, exist_ok=True)
            with fs.open(path, "wb") as f:
                f.write(data)
        except Exception as exc:
            raise ResultError(f"cannot write result to {self.path(relative)}: {exc}") from exc
        return self.path(relative)

    def read(self, relative: str) -> Any:
        """Load the value stored at ``relative`` (a path under the root, or a full location)."""
        fs, root = self._fs()
        if relative.startswith(self.location):
            relative = relative[len(self.location):]
        path = f"{root}/{relative.lstrip('/')}"
        try:
            with fs.open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            raise ResultError(f"no result at {self.path(relative)}") from None
        return _SERIALIZERS[self.serializer][1](data)


def render_location(template: str | Callable[..., str], values: Mapping[str, Any]) -> str:
    """Fill a target/location template; a missing name says which names exist."""
    if callable(template):
        return str(template(**values))
    try:
        return template.format(**values)
    except KeyError as exc:
        raise ResultError(
            f"location template {template!r} uses {exc.args[0]!r};"
            f" known names: {', '.join(sorted(values))}"
        ) from None


def location_values(flow_name: str, flow_run_id: str, task_name: str, task_slug: str,
                    map_index: int | None, task_run_name: str | None,
                    inputs: Mapping[str, Any], parameters: Mapping[str, Any]) -> dict[str, Any]:
    now = _dt.datetime.now(_dt.timezone.utc)
    values: dict[str, Any] = {**parameters, **inputs}
    values.update(
        flow_name=flow_name, flow_run_id=flow_run_id, task_name=task_name, task_slug=task_slug,
        map_index="" if map_index is None else map_index,
        task_run_name=task_run_name or task_name,
        today=now.strftime("%Y-%m-%d"), date=now, parameters=dict(parameters),
    )
    return values


def read_location(location: str, storage_options: Mapping[str, Any] | None = None) -> Any:
    """Load the result at a full ``location`` (a path or an fsspec URL, as a checkpointed
    state's ``location``), without the ``Result`` that wrote it: a pickle is recognised by
    its protocol byte, anything else is read as JSON (the two serializers)."""
    import fsspec

    try:
        with fsspec.open(location, "rb", **dict(storage_options or {})) as f:
            data = f.read()
    except FileNotFoundError:
        raise ResultError(f"no result at {location}") from None
    except Exception as exc:
        raise ResultError(f"cannot read the result at {location}: {exc}") from exc
    kind = "pickle" if data[:1] == b"\x80" else "json"
    try:
        return _SERIALIZERS[kind][1](data)
    except Exception as exc:
        raise ResultError(f"cannot load the result at {location} ({kind}): {exc}") from exc
