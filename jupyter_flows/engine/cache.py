"""Where cached task states live between runs: in memory (the default) or in a directory.

Keys are ``task.cache_key`` or ``"<flow name>/<task slug>"``, plus ``[i]`` for a map child.
A ``DirectoryCacheStore`` survives kernel restarts (the notebook's ``--persist DIR``).
A cache that cannot be read is never fatal: :func:`read_cached` logs a warning naming the
task and the store, and the task runs as if nothing were cached.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import cloudpickle

from jupyter_flows.errors import CacheError

if TYPE_CHECKING:
    from jupyter_flows.engine.states import State


_log = logging.getLogger("jupyter_flows.engine")


class CacheStore(Protocol):
    def get(self, key: str) -> State | None: ...

    def put(self, key: str, state: State) -> None: ...

    def clear(self) -> None: ...


class MemoryCacheStore:
    """Cached states kept in this process, shared by its flow runs."""

    def __init__(self) -> None:
        self._states: dict[str, State] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> State | None:
        with self._lock:
            return self._states.get(key)

    def put(self, key: str, state: State) -> None:
        with self._lock:
            self._states[key] = state

    def clear(self) -> None:
        with self._lock:
            self._states.clear()

    def __len__(self) -> int:
        return len(self._states)

    def __repr__(self) -> str:
        return "MemoryCacheStore()"


class DirectoryCacheStore:
    """Cached states pickled into a directory, one file per key, written atomically."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.directory / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".state")

    def get(self, key: str) -> State | None:
        """The state cached under ``key``, None if there is none; raises ``CacheError``
        when its file cannot be read (corrupt, written by an incompatible version)."""
        path = self._path(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise CacheError(f"cannot read {path}: {exc.strerror or exc}") from exc
        try:
            stored_key, state = cloudpickle.loads(data)
        except Exception as exc:
            raise CacheError(f"cannot unpickle {path}: {type(exc).__name__}: {exc}") from exc
        return state if stored_key == key else None

    def put(self, key: str, state: State) -> None:
        path = self._path(key)
        tmp = path.with_suffix(f".tmp{os.getpid()}.{threading.get_ident()}")
        tmp.write_bytes(cloudpickle.dumps((key, state)))
        os.replace(tmp, path)

    def clear(self) -> None:
        for path in self.directory.glob("*.state"):
            path.unlink(missing_ok=True)

    def __repr__(self) -> str:
        return f"DirectoryCacheStore({str(self.directory)!r})"


def read_cached(store: CacheStore, key: str, task_slug: str) -> State | None:
    """``store.get(key)``, or None with a warning when the store cannot be read: a broken
    cache costs a rerun of the task, never the flow run."""
    try:
        return store.get(key)
    except Exception as exc:
        _log.warning("task %r: cannot read its cached state %r from %r (%s: %s); the task "
                     "runs instead", task_slug, key, store, type(exc).__name__, exc)
        return None


default_cache_store = MemoryCacheStore()
"""The store flow runs use unless given another: cached states last as long as the process."""
