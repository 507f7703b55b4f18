"""LocalDaskExecutor: each stage runs as a dask graph on a local scheduler (threads,
processes or sync), as Prefect 1.x's executor of that name did."""

from __future__ import annotations

import multiprocessing
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, Literal

from pydantic import Field

from jupyter_flows.engine.logs import CollectLogs, reemit
from jupyter_flows.executors.base import Call, EventHandler, Executor
from jupyter_flows.executors.graphs import stage_graph


class LocalDaskSession:
    def __init__(self, scheduler: str, num_workers: int | None,
                 on_event: EventHandler | None) -> None:
        self.scheduler = scheduler
        self.num_workers = num_workers
        self.portable = scheduler == "processes"
        # threads share memory: task runners report directly; processes report through
        # dask's scheduler callbacks, which run here in the parent when a call finishes
        self.sink = None if self.portable else on_event
        # records logged in a worker process come back with the run's state (see _posttask)
        self.log_sink = CollectLogs() if self.portable else None
        self._on_event = on_event
        self.values: dict[str, Any] = {}
        self._labels: dict[str, tuple[str, int | None]] = {}
        self._pool: Any = None

    def __enter__(self) -> LocalDaskSession:
        if self.scheduler == "processes":
            self._pool = ProcessPoolExecutor(
                self.num_workers or multiprocessing.cpu_count(),
                mp_context=multiprocessing.get_context("spawn"),
            )
        elif self.scheduler == "threads":
            self._pool = ThreadPoolExecutor(self.num_workers or multiprocessing.cpu_count(),
                                            thread_name_prefix="jupyter-flows")
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def submit(self, calls: Sequence[Call]) -> None:
        import dask

        graph = stage_graph(calls, self.values.__getitem__)
        keys = [c.key for c in calls]
        kwargs: dict[str, Any] = {}
        if self.portable and self._on_event is not None:
            for call in calls:
                if call.label is not None:
                    self._labels[call.key] = call.label
            kwargs["callbacks"] = [(None, None, None, self._posttask, None)]
        if self.scheduler == "sync":
            results = dask.get(graph, keys, **kwargs)
        elif self.scheduler == "threads":
            from dask.threaded import get as threaded_get

            results = threaded_get(graph, keys, pool=self._pool, **kwargs)
        else:
            results = self._multiprocessing_get(graph, keys, kwargs)
        self.values.update(zip(keys, results))

    def _multiprocessing_get(self, graph: dict[str, Any], keys: list[str],
                             kwargs: dict[str, Any]) -> list[Any]:
        """Run the stage on the process pool; when a worker process dies, what finished
        keeps its state, the rest are Crashed, and a fresh pool serves the next stage."""
        from concurrent.futures.process import BrokenProcessPool

        from dask.multiprocessing import get as mp_get

        from jupyter_flows.engine.states import Crashed

        finished: dict[str, Any] = {}

        def remember(key: str, result: Any, dsk: Any, state: Any, worker_id: Any) -> None:
            finished[key] = result
            logs = (getattr(result, "context", None) or {}).pop("logs", None)
            for record in logs or ():
                reemit(record)

        callbacks = [(None, None, None, remember, None), *kwargs.pop("callbacks", [])]
        try:
            return list(mp_get(graph, keys, pool=self._pool, callbacks=callbacks, **kwargs))
        except BrokenProcessPool as exc:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self.__enter__()
            reason = f"a worker process died while this ran ({exc})"
            return [finished[k] if k in finished else Crashed(reason) for k in keys]

    def _posttask(self, key: str, result: Any, dsk: Any, state: Any, worker_id: Any) -> None:
        from jupyter_flows.engine.states import Running, State

        label = self._labels.get(key)
        if label is None or self._on_event is None or not isinstance(result, State):
            return
        # A call's start does not tell whether its task will run (it may skip, fail its
        # trigger, be a parameter or a map's parent), so Running is reported here, only for
        # states that went through attempts: observers see what the other executors report.
        if result.run_count > 0:
            self._on_event(label[0], label[1], Running(run_count=result.run_count))
        self._on_event(label[0], label[1], result)

    def gather(self, keys: Sequence[str]) -> list[Any]:
        return [self.values[k] for k in keys]


class LocalDaskExecutor(Executor):
    """Run tasks in parallel on dask's local threaded, multiprocessing or sync scheduler."""

    type: Literal["local-dask"] = "local-dask"
    scheduler: Literal["threads", "processes", "sync"] = Field(
        "threads", description="dask local scheduler: threads, processes or sync"
    )
    num_workers: int | None = Field(
        None, gt=0, description="parallel workers; default: the number of CPUs"
    )

    @contextmanager
    def start(self, on_event: EventHandler | None = None) -> Iterator[LocalDaskSession]:
        with LocalDaskSession(self.scheduler, self.num_workers, on_event) as session:
            yield session

    def describe(self) -> str:
        return f"LocalDaskExecutor({self.scheduler})"
