"""``%flow run``: run a notebook's flow in the kernel and bring the cells' outputs back.

Incremental runs use the engine's cache: each task cell caches its outputs (see
``notebook_flow``) in a store of the notebook session, or in a directory with
``--persist DIR`` so they outlast a kernel restart. The store keeps one entry per cell (the
latest source), so editing a cell does not pile up old outputs in memory. ``--force`` runs
every cell and refreshes the cache.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jupyter_flows.cells.tasks import CellOutputs, CellTask
from jupyter_flows.engine.cache import CacheStore, DirectoryCacheStore
from jupyter_flows.errors import ExecutorError, ParameterError

if TYPE_CHECKING:
    from jupyter_flows.core.flow import Flow
    from jupyter_flows.core.task import Task
    from jupyter_flows.engine.observers import RunObserver
    from jupyter_flows.engine.states import State
    from jupyter_flows.executors.base import Executor

__all__ = ["CellCache", "NotebookRun", "executor_from_words", "parse_params", "run_in_notebook"]

_CELL_KEY_PREFIX = "notebook-cell/"


def parse_params(pairs: Iterable[str]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs; a value is JSON when it parses as JSON, else a string."""
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise ParameterError(f"--param expects KEY=VALUE, got {pair!r}")
        try:
            params[key.strip()] = json.loads(raw)
        except json.JSONDecodeError:
            params[key.strip()] = raw
    return params


def executor_from_words(words: Sequence[str] | None) -> Executor | None:
    """``local`` | ``local-dask [threads|processes|sync]`` | ``dask [ADDRESS]``; None: unset."""
    if not words:
        return None
    kind, *rest = words
    if len(rest) > 1:
        raise ExecutorError(f"--executor takes a kind and at most one argument, got {words!r}")
    arg = rest[0] if rest else None
    if kind == "local" and arg is None:
        from jupyter_flows.executors.local import LocalExecutor

        return LocalExecutor()
    if kind == "local-dask":
        from jupyter_flows.executors.local_dask import LocalDaskExecutor

        if arg not in (None, "threads", "processes", "sync"):
            raise ExecutorError(
                f"--executor local-dask: the scheduler is threads, processes or sync, not {arg!r}"
            )
        return LocalDaskExecutor(scheduler=arg or "threads")
    if kind == "dask":
        from jupyter_flows.executors.dask import DaskExecutor

        return DaskExecutor(address=arg)
    raise ExecutorError(
        f"--executor: expected local, local-dask [threads|processes|sync] or dask [ADDRESS],"
        f" got {' '.join(words)!r}"
    )


class CellCache:
    """The cache store of a notebook session: the latest cached state of each task cell.

    Cell keys end in the source hash; a new one replaces the cell's old entry. Other keys (the
    tasks of ``%%flow`` flows that set ``cache_for``) are kept as they come.
    """

    def __init__(self) -> None:
        self._states: dict[str, tuple[str, State]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _slot(key: str) -> str:
        return key.rsplit("/", 1)[0] if key.startswith(_CELL_KEY_PREFIX) else key

    def get(self, key: str) -> State | None:
        with self._lock:
            entry = self._states.get(self._slot(key))
        return entry[1] if entry is not None and entry[0] == key else None

    def put(self, key: str, state: State) -> None:
        with self._lock:
            self._states[self._slot(key)] = (key, state)

    def clear(self) -> None:
        with self._lock:
            self._states.clear()

    def forget_flow(self, flow: str) -> None:
        prefix = f"{_CELL_KEY_PREFIX}{flow}/"
        with self._lock:
            self._states = {k: v for k, v in self._states.items() if not k.startswith(prefix)}


class _RunStore:
    """The cache of one run: the session's store, then the ``--persist`` directory if any.

    A hit in either is valid (keys hold the source hash, the validator checks the inputs);
    a new state goes to both. Reads can be turned off (``--force``), and a state that cannot be
    stored (outputs that do not pickle, for a directory) is a note, not a crashed run.
    """

    def __init__(self, stores: Sequence[CacheStore], read: bool) -> None:
        self.stores = list(stores)
        self.read = read
        self.problems: list[str] = []

    def get(self, key: str) -> State | None:
        if not self.read:
            return None
        for store in self.stores:
            state = store.get(key)
            if state is not None:
                return state
        return None

    def put(self, key: str, state: State) -> None:
        for store in self.stores:
            try:
                store.put(key, state)
            except Exception as exc:
                cell = key.rsplit("/", 2)[1] if key.startswith(_CELL_KEY_PREFIX) else key
                self.problems.append(
                    f"the outputs of {cell!r} were not cached: {type(exc).__name__}: {exc}"
                )

    def clear(self) -> None:
        for store in self.stores:
            store.clear()


@dataclass
class NotebookRun:
    """The result of ``%flow run``: the flow's state and what came back to the notebook."""

    flow: Flow
    state: State
    seconds: float
    outputs: list[str] = field(default_factory=list)  # names set in the notebook, in order
    cache_problems: list[str] = field(default_factory=list)

    @property
    def task_states(self) -> dict[Task, State]:
        return dict(self.state.result or {})


def run_in_notebook(
    flow: Flow,
    namespace: dict[str, Any],
    *,
    order: Sequence[Task] | None = None,
    executor: Executor | None = None,
    parameters: Mapping[str, Any] | None = None,
    cache: CacheStore,
    persist: str | Path | None = None,
    force: bool = False,
    observers: Iterable[RunObserver] = (),
) -> NotebookRun:
    """Run ``flow`` and set each successful (or cached) task cell's outputs in ``namespace``,
    in ``order`` (the cells' run order, so a later definition of a name wins)."""
    from jupyter_flows.engine.flow_runner import run_flow

    stores = [cache]
    if persist:
        stores.append(DirectoryCacheStore(Path(persist).expanduser()))
    guarded = _RunStore(stores, read=not force)
    started = time.perf_counter()
    state = run_flow(flow, parameters=parameters, executor=executor, observers=observers,
                     progress=False, cache_store=guarded)
    seconds = time.perf_counter() - started
    outputs: list[str] = []
    task_states: dict[Task, State] = state.result or {}
    for task in order if order is not None else flow.sorted_tasks():
        task_state = task_states.get(task)
        if (isinstance(task, CellTask) and task_state is not None
                and task_state.is_successful() and isinstance(task_state.result, CellOutputs)):
            namespace.update(task_state.result)
            outputs.extend(n for n in task_state.result if n not in outputs)
    return NotebookRun(flow, state, seconds, outputs, guarded.problems)
