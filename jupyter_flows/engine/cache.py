"""Where cached task states live between runs: in memory (the default) or in a directory.

Keys are ``task.cache_key`` or ``"<flow name>/<task slug>"``, plus ``[i]`` for a map child.
A ``DirectoryCacheStore`` survives kernel restarts (the notebook's ``--persist DIR``).
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import cloudpickle

if TYPE_CHECKING:
    from jupyter_flows.engine.states import State


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


class DirectoryCacheStore:
    """Cached states pickled into a directory, one file per key, written atomically."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.directory / (hashlib.sha256(key.encode()).hexdigest()[:32] + ".state")

    def get(self, key: str) -> State | None:
        try:
            data = self._path(key).read_bytes()
        except FileNotFoundError:
            return None
        try:
            stored_key, state = cloudpickle.loads(data)
        except Exception:  # a file from an incompatible version is a cache miss, not an error
            return None
        return state if stored_key == key else None

    def put(self, key: str, state: State) -> None:
        path = self._path(key)
        tmp = path.with_suffix(f".tmp{os.getpid()}.{threading.get_ident()}")
        tmp.write_bytes(cloudpickle.dumps((key, state)))
        os.replace(tmp, path)

    def clear(self) -> None:
        for path in self.directory.glob("*.state"):
            path.unlink(missing_ok=True)


default_cache_store = MemoryCacheStore()
"""The store flow runs use unless given another: cached states last as long as the process."""
