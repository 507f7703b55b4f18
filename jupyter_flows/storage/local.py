"""Local storage: flow payloads as files in a directory of this host (or a shared filesystem)."""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Literal

from jupyter_flows.errors import StorageError
from jupyter_flows.storage.base import Storage
from jupyter_flows.storage.payload import Payload, slugify


class Local(Storage):
    """Store flows as files under ``directory``: ``<flow-name-slug>/<spec>-<content>.flow``.

    By default the file holds the Flow pickled with cloudpickle. With
    ``stored_as_script=True`` it holds a copy of the script ``path``, which is run on load
    (its ``if __name__ == "__main__":`` block is not). Without scripts, ``path`` names the
    exact file to write instead of one under ``directory``.
    """

    type: Literal["local"] = "local"
    directory: str = "~/.jupyter-flows/flows"
    path: str | None = None

    def exists(self, location: str) -> bool:
        return Path(location).expanduser().is_file()

    def _write(self, payload: Payload) -> str:
        if self.path is not None and not self.stored_as_script:
            target = Path(self.path).expanduser()
        else:
            folder = Path(self.directory).expanduser() / slugify(payload.flow_name)
            target = folder / payload.file_name
        target = target.absolute()
        # write then rename, so a process loading the flow never reads half a file
        tmp = target.with_name(f".{target.name}.{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(payload.data)
            os.replace(tmp, target)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise StorageError(
                f"cannot store flow {payload.flow_name!r} at {target}: {exc.strerror or exc}"
            ) from None
        return str(target)

    def _read(self, location: str) -> bytes:
        path = Path(location).expanduser()
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise StorageError(
                f"no flow is stored at {path}: the file does not exist (Local storage reads"
                " this host's disk; a flow run elsewhere needs the directory on a shared"
                " filesystem, or S3 storage)"
            ) from None
        except OSError as exc:
            raise StorageError(f"cannot read the flow stored at {path}: {exc}") from None

    def _script_path(self) -> str | None:
        return self.path

    def _script_field(self) -> str:
        return "path"
