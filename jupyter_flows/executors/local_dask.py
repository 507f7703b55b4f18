"""LocalDaskExecutor: each stage runs as a dask graph on a local scheduler (threads,
processes or sync), as Prefect 1.x's executor of that name did."""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator

from jupyter_flows.executors.base import (
    Call,
    CollectLogs,
    EngineHooks,
    Executor,
    without_unshippable,
)
from jupyter_flows.executors.graphs import stage_graph
from jupyter_flows.executors.interrupts import RunningCalls

# dask's own names for its local schedulers, and Prefect's
SCHEDULER_ALIASES = {"threading": "threads", "multiprocessing": "processes",
                     "synchronous": "sync", "single-threaded": "sync"}


def _ignore_sigint() -> None:
    # the driver handles Ctrl-C and stops the pool's processes itself
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class LocalDaskSession:
    def __init__(self, scheduler: str, num_workers: int | None, hooks: EngineHooks) -> None:
        self.scheduler = scheduler
        self.num_workers = num_workers
        self.portable = scheduler == "processes"
        # threads share memory: task runners report directly; processes report through
        # dask's scheduler callbacks, which run here in the parent when a call finishes
        self.sink = None if self.portable else hooks.on_event
        # records logged in a worker process come back with the run's state (see _posttask)
        self.log_sink = CollectLogs() if self.portable else None
        self._hooks = hooks
        self._on_event = hooks.on_event
        self.values: dict[str, Any] = {}
        self._labels: dict[str, tuple[str, int | None]] = {}
        self._running: set[str] = set()
        self._pool: Any = None
        self._interrupted = False
        self._threads = RunningCalls(hooks.cancelled)

    def __enter__(self) -> LocalDaskSession:
        if self.scheduler == "processes":
            self._pool = ProcessPoolExecutor(
                self.num_workers or multiprocessing.cpu_count(),
                mp_context=multiprocessing.get_context("spawn"), initializer=_ignore_sigint,
            )
        elif self.scheduler == "threads":
            self._pool = ThreadPoolExecutor(self.num_workers or multiprocessing.cpu_count(),
                                            thread_name_prefix="jupyter-flows")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            # after an interrupt, a thread stuck in C code must not hold the run up
            self._pool.shutdown(wait=not self._interrupted, cancel_futures=True)

    def submit(self, calls: Sequence[Call], last: bool = False) -> None:
        import dask

        if self.scheduler == "threads":
            calls = [Call(c.key, self._threads.wrap(c.key, c.fn), c.args, c.label)
                     for c in calls]
        elif self.portable:
            calls, _ = without_unshippable(calls, "the worker processes", self._hooks.failed)
        graph = stage_graph(calls, self.values.__getitem__)
        keys = [c.key for c in calls]
        callbacks: list[Any] = [(None, None, self._pretask, self._record, None)]
        if self.portable and self._on_event is not None:
            for call in calls:
                if call.label is not None:
                    self._labels[call.key] = call.label
            callbacks.append((None, None, None, self._posttask, None))
        if self.scheduler == "sync":
            results = dask.get(graph, keys, callbacks=callbacks)
        elif self.scheduler == "threads":
            from dask.threaded import get as threaded_get

            results = threaded_get(graph, keys, pool=self._pool, callbacks=callbacks)
        else:
            results = self._multiprocessing_get(graph, keys, callbacks)
        self.values.update(zip(keys, results))

    def _pretask(self, key: str, dsk: Any, state: Any) -> None:
        self._running.add(key)

    def _record(self, key: str, result: Any, dsk: Any, state: Any, worker_id: Any) -> None:
        # each result as it arrives, so an interrupted stage keeps what finished
        self._running.discard(key)
        self.values[key] = result

    def _multiprocessing_get(self, graph: dict[str, Any], keys: list[str],
                             callbacks: list[Any]) -> list[Any]:
        """Run the stage on the process pool; when a worker process dies, what finished
        keeps its state, the rest are Crashed, and a fresh pool serves the next stage."""
        from concurrent.futures.process import BrokenProcessPool

        from dask.multiprocessing import get as mp_get

        def relay_logs(key: str, result: Any, dsk: Any, state: Any, worker_id: Any) -> None:
            logs = (getattr(result, "context", None) or {}).pop("logs", None)
            for record in logs or ():
                self._hooks.on_log(record)

        try:
            return list(mp_get(graph, keys, pool=self._pool,
                               callbacks=[(None, None, None, relay_logs, None), *callbacks]))
        except BrokenProcessPool as exc:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self.__enter__()
            reason = f"a worker process died while this ran ({exc})"
            return [self.values[k] if k in self.values else self._hooks.crashed(reason)
                    for k in keys]

    def _posttask(self, key: str, result: Any, dsk: Any, state: Any, worker_id: Any) -> None:
        label = self._labels.get(key)
        if label is None or self._on_event is None:
            return
        for change in self._hooks.result_events(result):
            self._on_event(label[0], label[1], change)

    def gather(self, keys: Sequence[str]) -> list[Any]:
        return [self.values[k] for k in keys]

    # ------------------------------------------------------------------ interrupts
    def finished(self) -> dict[str, Any]:
        return dict(self.values)

    def running(self) -> set[str]:
        return self._threads.running() if self.scheduler == "threads" else set(self._running)

    def interrupt(self, grace: float) -> dict[str, Any]:
        """Stop what runs now: threads get TaskInterrupted, pool processes are killed."""
        self._interrupted = True
        if self.scheduler == "threads":
            return self._threads.interrupt(grace)
        if self.scheduler == "processes" and self._pool is not None:
            # a killed process takes its task run (and any timed child of it) with it
            for process in list(getattr(self._pool, "_processes", {}).values()):
                process.kill()
            for process in list(getattr(self._pool, "_processes", {}).values()):
                process.join(grace)
        return {}


class LocalDaskExecutor(Executor):
    """Run tasks in parallel on dask's local threaded, multiprocessing or sync scheduler.

    ``LocalDaskExecutor("processes")`` works as in Prefect; dask's other names for the
    schedulers ("synchronous", "single-threaded", "threading", "multiprocessing") too.
    """

    type: Literal["local-dask"] = "local-dask"
    config_aliases: ClassVar[tuple[str, ...]] = ("local_dask",)
    scheduler: Literal["threads", "processes", "sync"] = Field(
        "threads", description="dask local scheduler: threads, processes or sync"
    )
    num_workers: int | None = Field(
        None, gt=0, description="parallel workers; default: the number of CPUs"
    )

    def __init__(self, scheduler: str | None = None, /, **data: Any) -> None:
        if scheduler is not None:
            if "scheduler" in data:
                raise TypeError("LocalDaskExecutor: scheduler given twice")
            data["scheduler"] = scheduler
        super().__init__(**data)

    @field_validator("scheduler", mode="before")
    @classmethod
    def _alias(cls, value: Any) -> Any:
        return SCHEDULER_ALIASES.get(value, value) if isinstance(value, str) else value

    @contextmanager
    def start(self, hooks: EngineHooks) -> Iterator[LocalDaskSession]:
        with LocalDaskSession(self.scheduler, self.num_workers, hooks) as session:
            yield session

    def describe(self) -> str:
        return f"LocalDaskExecutor({self.scheduler})"

