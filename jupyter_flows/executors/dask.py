"""DaskExecutor: a stage is one graph sent to a distributed scheduler; data stays on workers.

The cluster is any Dask deployment: an ``address`` of a running scheduler, or a
``cluster_class`` import path (``"distributed.LocalCluster"``, ``"dask_kubernetes.KubeCluster"``,
``"dask_jobqueue.SLURMCluster"``) built with ``cluster_kwargs`` and optionally ``adapt``-ed.
With neither, a temporary LocalCluster lives for the run.
"""

from __future__ import annotations

import importlib
import logging
import os
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Literal

from pydantic import Field, field_validator

from jupyter_flows.errors import ExecutorError
from jupyter_flows.executors.base import (
    Call,
    EngineHooks,
    ExecutionError,
    Executor,
    LogSink,
    without_unshippable,
)
from jupyter_flows.executors.dask_batches import (
    StateBatch,
    pin_done,
    scheduler_states,
    submit_batch,
)
from jupyter_flows.executors.dask_graphs import gather_finished, named_graph
from jupyter_flows.executors.graphs import stage_graph


class DaskEventSink(LogSink):
    """Sends task state changes and log records from a worker to the driver, through a
    scheduler event topic (plain data: the events travel as msgpack)."""

    __slots__ = ("driver_pid", "encode", "topic")

    def __init__(self, topic: str, encode: Callable[[Any], dict[str, Any]]) -> None:
        self.topic = topic
        self.encode = encode  # the engine's, a module function: it ships by reference
        self.driver_pid = os.getpid()

    def __call__(self, slug: str, map_index: int | None, state: Any) -> None:
        self._log_event({"slug": slug, "map_index": map_index, **self.encode(state)})

    def wanted(self) -> bool:
        # a worker thread of the driver's own process logs through the driver's handlers
        return os.getpid() != self.driver_pid

    def send(self, record: dict[str, Any]) -> None:
        self._log_event({"log": record})

    def _log_event(self, message: dict[str, Any]) -> None:
        from distributed import get_worker

        try:
            worker = get_worker()
        except ValueError:  # not on a worker (e.g. a test calling the runner directly)
            return
        worker.log_event(self.topic, message)


class DaskSession:
    portable = True

    def __init__(self, client: Any, hooks: EngineHooks) -> None:
        self.client = client
        self.futures: dict[str, Any] = {}
        self.batches: list[StateBatch] = []  # the last stage's, if it went as one batch
        self._hooks = hooks
        # log records always come back (they are rare on the hot path); state changes only
        # when someone observes them
        self.log_sink = DaskEventSink(f"jupyter-flows-{uuid.uuid4().hex}", hooks.encode_state)
        self.sink: DaskEventSink | None = self.log_sink if hooks.on_event is not None else None
        client.subscribe_topic(self.log_sink.topic, self._deliver)

    def _deliver(self, event: tuple[float, dict[str, Any]]) -> None:
        msg = event[1]
        if "log" in msg:
            self._hooks.on_log(msg["log"])
            return
        if self._hooks.on_event is not None:
            self._hooks.on_event(msg["slug"], msg["map_index"], self._hooks.decode_state(msg))

    def submit(self, calls: Sequence[Call], last: bool = False) -> None:
        try:
            self._submit(calls, last)
        except Exception:
            # a task that cannot be pickled fails the whole graph; fail just those tasks
            # (nothing was sent: the graph is serialized before it leaves)
            shippable, replaced = without_unshippable(calls, "the Dask workers",
                                                      self._hooks.failed)
            if not replaced:
                raise
            self._submit(shippable, last)

    def _submit(self, calls: Sequence[Call], last: bool) -> None:
        # calls come in dependency order, so consecutive runs of one resource need keep it
        segments = _by_resources(calls)
        if last and len(segments) == 1:
            resources, segment = segments[0]
            graph = stage_graph(segment, self.futures.__getitem__)
            self.batches.append(submit_batch(self.client, graph, segment, resources))
            return
        for resources, segment in segments:
            graph = stage_graph(segment, self.futures.__getitem__)
            keys = [c.key for c in segment]
            futures = self.client.get(named_graph(graph, keys[0]), keys, sync=False,
                                      resources=resources)
            self.futures.update(zip(keys, futures))

    def gather(self, keys: Sequence[str]) -> list[Any]:
        from distributed import wait

        values = self._batch_values()
        futures = [self.futures[k] for k in keys if k not in values]
        # the client is not the default one (set_as_default=False), and wait() finds its
        # client through the default/current client, so make ours current while waiting
        with self.client.as_current():
            wait(futures)
        done = [f for f in futures if f.status == "finished"]
        values.update(zip((f.key for f in done), gather_finished(self.client, done)))
        return [values[k] if k in values else ExecutionError(self.futures[k].exception())
                for k in keys]

    def _batch_values(self) -> dict[str, Any]:
        """The states of the last stage's task-level calls; where its batch erred, futures
        for what the scheduler still has (gather reports the rest as lost)."""
        from distributed import wait

        values: dict[str, Any] = {}
        for batch in self.batches:
            with self.client.as_current():
                wait([batch.future])
            if batch.future.status == "finished":
                values.update(zip(batch.wanted, batch.future.result()))
                continue
            kept = pin_done(self.client, batch.wanted)
            self.futures.update(kept)
            values.update((k, ExecutionError(RuntimeError(
                f"the Dask scheduler lost {k!r} with the call that collected it")))
                for k in batch.wanted if k not in kept)
        self.batches.clear()
        return values

    def close(self) -> None:
        self.client.unsubscribe_topic(self.log_sink.topic)
        self.futures.clear()
        self.batches.clear()

    # ------------------------------------------------------------------ interrupts
    def finished(self) -> dict[str, Any]:
        done = {k: f for k, f in self.futures.items() if f.status == "finished"}
        try:
            return dict(zip(done, self.client.gather(list(done.values()))))
        except Exception:
            return {}

    def running(self) -> set[str]:
        pending = {k for k, f in self.futures.items() if f.status == "pending"}
        for batch in self.batches:
            states = scheduler_states(self.client, batch.keys)
            pending.update(k for k, s in states.items() if s == "processing")
        return pending

    def interrupt(self, grace: float) -> dict[str, Any]:
        """Cancel what has not finished; Dask cannot stop a call already on a worker."""
        for batch in self.batches:
            # keep what finished before the batch goes (its calls go with it)
            self.futures.update(pin_done(self.client, batch.keys))
        if self.batches:
            from distributed import wait

            pinned = [f for f in self.futures.values() if f.status == "pending"]
            try:
                with self.client.as_current():
                    wait(pinned, timeout=grace)
            except TimeoutError:
                pass  # what has not come back by now is cancelled below
        pending = {k: f for k, f in self.futures.items() if f.status == "pending"}
        self.client.cancel([*pending.values(), *(b.future for b in self.batches)])
        reason = ("cancelled on the Dask cluster; a call already running on a worker goes on"
                  " there until it returns")
        stuck = {k: self._hooks.cancelled(reason) for k in pending}
        for batch in self.batches:
            stuck.update((k, self._hooks.cancelled(reason))
                         for k in batch.keys if k not in self.futures)
        self.batches.clear()
        return stuck


RESOURCE_TAG = "dask-resource:"


def task_resources(tags: Iterable[str], task_name: str) -> dict[str, float] | None:
    """Worker resources a task needs, from tags like ``dask-resource:GPU=1`` (Prefect's)."""
    found: dict[str, float] = {}
    for tag in tags:
        if not tag.startswith(RESOURCE_TAG):
            continue
        name, sep, amount = tag[len(RESOURCE_TAG):].partition("=")
        try:
            found[name] = float(amount)
        except ValueError:
            sep = ""
        if not sep or not name:
            raise ExecutorError(
                f"task {task_name!r}: tag {tag!r} should read 'dask-resource:NAME=AMOUNT',"
                f" like 'dask-resource:GPU=1'")
    return found or None


def _by_resources(calls: Sequence[Call]) -> list[tuple[dict[str, float] | None, list[Call]]]:
    segments: list[tuple[dict[str, float] | None, list[Call]]] = []
    for call in calls:
        needs = (task_resources(call.tags, call.label[0])
                 if call.tags and call.label is not None else None)
        if segments and segments[-1][0] == needs:
            segments[-1][1].append(call)
        else:
            segments.append((needs, [call]))
    return segments


def _import_path(value: Any) -> str:
    if isinstance(value, str):
        return value
    module, qualname = getattr(value, "__module__", None), getattr(value, "__qualname__", None)
    if not module or not qualname or "<locals>" in qualname:
        raise ValueError(f"expected an import path like 'distributed.LocalCluster', got {value!r}")
    return f"{module}.{qualname}"


class DaskExecutor(Executor):
    """Run tasks on a Dask cluster: an existing scheduler, or one built for the run."""

    type: Literal["dask"] = "dask"
    address: str | None = Field(None, description="scheduler address, e.g. tcp://10.0.0.5:8786")
    cluster_class: str | None = Field(
        None, description="import path of a cluster class, e.g. distributed.LocalCluster"
    )
    cluster_kwargs: dict[str, Any] | None = Field(None, description="arguments of cluster_class")
    adapt_kwargs: dict[str, Any] | None = Field(
        None, description="arguments of cluster.adapt(), e.g. {'minimum': 1, 'maximum': 10}"
    )
    client_kwargs: dict[str, Any] | None = Field(None, description="arguments of Client()")
    debug: bool = Field(False, description="show the cluster's own logs")
    performance_report_path: str | None = Field(
        None, description="write Dask's performance report of the run (HTML) here; needs bokeh"
    )

    def __init__(self, address: str | None = None, /, **data: Any) -> None:
        if address is not None:
            if data.get("address") is not None:
                raise TypeError("DaskExecutor: address given twice")
            data["address"] = address
        super().__init__(**data)

    @field_validator("debug", mode="before")
    @classmethod
    def _debug_none(cls, value: Any) -> Any:
        return False if value is None else value  # Prefect's default was None

    @field_validator("cluster_class", mode="before")
    @classmethod
    def _class_to_path(cls, value: Any) -> Any:
        if value is None:
            return None
        path = _import_path(value)
        if "." not in path or not all(part.isidentifier() for part in path.split(".")):
            raise ValueError(
                f"expected an import path like 'distributed.LocalCluster', got {path!r}"
            )
        return path

    def model_post_init(self, context: Any) -> None:
        if self.address and self.cluster_class:
            # pydantic words it as "DaskExecutor: ..." (an ExecutorConfigError from a config)
            raise ValueError("give an address or a cluster_class, not both")

    def describe(self) -> str:
        if self.address:
            return f"DaskExecutor({self.address})"
        return f"DaskExecutor({self.cluster_class or 'temporary LocalCluster'})"

    def _load_cluster_class(self) -> Any:
        path = self.cluster_class or "distributed.LocalCluster"
        module_name, _, attr = path.rpartition(".")
        try:
            return getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise ExecutorError(
                f"DaskExecutor.cluster_class: cannot import {path!r} ({exc});"
                f" is the package that provides it installed?"
            ) from None

    @contextmanager
    def start(self, hooks: EngineHooks) -> Iterator[DaskSession]:
        from distributed import Client

        client_kwargs = dict(self.client_kwargs or {})
        client_kwargs.setdefault("set_as_default", False)
        cluster = None
        if self.address:
            client_kwargs.setdefault("timeout", "10s")
            try:
                client = Client(self.address, **client_kwargs)
            except OSError as exc:
                raise ExecutorError(
                    f"DaskExecutor: cannot reach the scheduler at {self.address}: {exc}"
                ) from None
        else:
            cls = self._load_cluster_class()
            kwargs = dict(self.cluster_kwargs or {})
            if self.cluster_class is None:
                # no host: LocalCluster already binds tcp to 127.0.0.1, and a host would
                # break the in-process transport it picks for processes=False
                kwargs.setdefault("dashboard_address", ":0")  # never clash on port 8787
            if not self.debug and _accepts(cls, "silence_logs"):
                kwargs.setdefault("silence_logs", logging.ERROR)
            try:
                cluster = cls(**kwargs)
            except Exception as exc:
                raise ExecutorError(
                    f"DaskExecutor: cannot start {cls.__name__}(**{kwargs!r}): {exc}"
                ) from exc
            if self.adapt_kwargs:
                cluster.adapt(**self.adapt_kwargs)
            client = Client(cluster, **client_kwargs)
        session = DaskSession(client, hooks)
        try:
            with self._report(client):
                yield session
        finally:
            session.close()
            client.close()
            if cluster is not None:
                cluster.close()


    @contextmanager
    def _report(self, client: Any) -> Iterator[None]:
        if not self.performance_report_path:
            yield
            return
        try:
            import bokeh  # noqa: F401  (Dask renders the report with it)
        except ImportError:
            raise ExecutorError(
                "DaskExecutor.performance_report_path: Dask renders the report with bokeh,"
                " which is not installed: pip install 'jupyter-flows[dask-report]'") from None
        from distributed import performance_report

        with client.as_current(), performance_report(filename=self.performance_report_path):
            yield


def _accepts(cls: Any, name: str) -> bool:
    import inspect

    try:
        params = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())
