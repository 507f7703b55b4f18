"""The storage contract: a JSON-able config that keeps a flow's code + spec and gives it back.

``add_flow(flow)`` writes a payload (see ``payload``) and returns its *location* (a path,
an S3 key); the backend keeps the storage config and that location with the flow, and
the process that runs the flow calls ``get_flow(location)``, possibly on another host.

Storage configs are pydantic models with a ``type`` discriminator, like executor configs,
so the backend can store them and the widgets can render them as forms.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field

from jupyter_flows.configs import ConfigKind
from jupyter_flows.errors import StorageConfigError, StorageError
from jupyter_flows.storage.payload import Payload, load_payload, pickle_payload, script_payload

if TYPE_CHECKING:
    from jupyter_flows.core.flow import Flow


class Storage(BaseModel):
    """Base of storage configs. Subclasses say where bytes go (``_write``/``_read``)."""

    model_config = ConfigDict(extra="forbid")
    type: str
    stored_as_script: bool = False
    pickle_by_value_modules: list[str] = Field(
        default_factory=list,
        description="Modules pickled with the flow (by value), for code that will not be"
        " importable where the flow is loaded, e.g. a helper module next to a notebook.",
    )

    def add_flow(self, flow: Flow) -> str:
        """Store ``flow``'s code + spec; returns the location to pass to ``get_flow``."""
        if self.stored_as_script:
            script = self._script_path()
            if script is None:
                raise StorageError(
                    f"{type(self).__name__}(stored_as_script=True) needs"
                    f" {self._script_field()}=, the script that builds flow {flow.name!r}"
                )
            payload = script_payload(flow, script)
        else:
            payload = pickle_payload(flow, self.pickle_by_value_modules)
        return self._write(payload)

    def get_flow(self, location: str) -> Flow:
        """Load the flow stored at ``location``; raises ``StorageError`` naming the cause."""
        return load_payload(self._read(location), self.describe(location))

    def exists(self, location: str) -> bool:
        raise NotImplementedError

    def describe(self, location: str) -> str:
        """``location`` as a user would look for it (a path, an ``s3://`` URL)."""
        return location

    # subclasses implement these
    def _write(self, payload: Payload) -> str:
        raise NotImplementedError

    def _read(self, location: str) -> bytes:
        raise NotImplementedError

    def _script_path(self) -> str | None:
        raise NotImplementedError

    def _script_field(self) -> str:
        raise NotImplementedError


def _storage_models() -> list[type[Storage]]:
    from jupyter_flows.storage.docker import Docker
    from jupyter_flows.storage.git import Git, GitHub
    from jupyter_flows.storage.local import Local
    from jupyter_flows.storage.s3 import S3

    return [Local, S3, Docker, Git, GitHub]


def _local_storage() -> Storage:
    from jupyter_flows.storage.local import Local

    return Local()


STORAGES: ConfigKind[Storage] = ConfigKind(
    "storage", Storage, StorageConfigError, _storage_models, default=_local_storage)
"""Storage configs: ``type`` tags, aliases (the class names), the loader."""


def storage_types() -> dict[str, type[Storage]]:
    """Each storage model by its ``type`` tag."""
    return dict(STORAGES.types)


def storage_from_config(value: Any) -> Storage:
    """A storage from a config: a Storage, a dict, JSON text or a type name; ``None`` is
    ``Local()``. Anything malformed raises ``StorageConfigError`` (a ``StorageError``)."""
    return STORAGES.load(value)
