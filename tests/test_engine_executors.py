"""Executor configs (JSON round trip, schema, errors naming the field) and the clusters a
DaskExecutor makes for itself when it has no address."""

from __future__ import annotations

import json
import logging
from typing import Annotated, Union

import distributed
import engine_tasks as et
import pytest
from pydantic import Field, TypeAdapter

from jupyter_flows import DaskExecutor, Flow, LocalDaskExecutor, LocalExecutor, task
from jupyter_flows.errors import ExecutorError
from jupyter_flows.executors import executor_from_config

CONFIGS = [
    pytest.param(LocalExecutor(), id="local"),
    pytest.param(LocalDaskExecutor(), id="local-dask-default"),
    pytest.param(LocalDaskExecutor(scheduler="processes", num_workers=3), id="local-dask"),
    pytest.param(DaskExecutor(address="tcp://10.0.0.5:8786", client_kwargs={"timeout": "5s"}),
                 id="dask-address"),
    pytest.param(DaskExecutor(cluster_class="distributed.LocalCluster",
                              cluster_kwargs={"n_workers": 2, "processes": False},
                              adapt_kwargs={"minimum": 1, "maximum": 4}, debug=True),
                 id="dask-cluster-class"),
]


@pytest.mark.parametrize("config", CONFIGS)
def test_json_round_trip(config) -> None:
    text = config.model_dump_json()
    assert json.loads(text)["type"] == config.type
    again = executor_from_config(text)
    assert type(again) is type(config)
    assert again == config
    assert executor_from_config(config.model_dump()) == config
    assert executor_from_config(config) is config


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("local", LocalExecutor, id="local"),
        pytest.param("local-dask", LocalDaskExecutor, id="local-dask"),
        pytest.param("local_dask", LocalDaskExecutor, id="local_dask-alias"),
        pytest.param("LocalDaskExecutor", LocalDaskExecutor, id="class-name-alias"),
        pytest.param(" dask ", DaskExecutor, id="dask-with-spaces"),
        pytest.param(None, LocalExecutor, id="none-is-local"),
    ],
)
def test_executor_from_a_type_name(name, expected) -> None:
    assert type(executor_from_config(name)) is expected


@pytest.mark.parametrize(
    ("model", "type_name"),
    [(LocalExecutor, "local"), (LocalDaskExecutor, "local-dask"), (DaskExecutor, "dask")],
    ids=["local", "local-dask", "dask"],
)
def test_json_schema_has_the_type_discriminator(model, type_name) -> None:
    schema = model.model_json_schema()
    assert schema["properties"]["type"]["const"] == type_name
    assert schema["additionalProperties"] is False


def test_executors_form_a_discriminated_union() -> None:
    union = Annotated[Union[LocalExecutor, LocalDaskExecutor, DaskExecutor],  # noqa: UP007
                      Field(discriminator="type")]
    adapter = TypeAdapter(union)
    schema = adapter.json_schema()
    assert schema["discriminator"]["propertyName"] == "type"
    assert set(schema["discriminator"]["mapping"]) == {"local", "local-dask", "dask"}
    parsed = adapter.validate_python({"type": "local-dask", "scheduler": "sync"})
    assert parsed == LocalDaskExecutor(scheduler="sync")


def test_schema_fields_describe_themselves() -> None:
    properties = DaskExecutor.model_json_schema()["properties"]
    for field in ("address", "cluster_class", "cluster_kwargs", "adapt_kwargs",
                  "client_kwargs"):
        assert properties[field]["description"], field


@pytest.mark.parametrize(
    ("config", "message"),
    [
        pytest.param({"type": "gpu"}, "unknown executor type 'gpu'; known: local, "
                     "local-dask, dask", id="unknown-type"),
        pytest.param("kubernetes", "unknown executor type 'kubernetes'", id="unknown-name"),
        pytest.param({}, "executor config has no 'type'; known: local, local-dask, dask",
                     id="no-type"),
        pytest.param({"type": "local-dask", "scheduler": "gpu"},
                     "LocalDaskExecutor.scheduler: Input should be 'threads', 'processes' or "
                     "'sync'", id="bad-scheduler"),
        pytest.param({"type": "local-dask", "num_workers": 0},
                     "LocalDaskExecutor.num_workers: Input should be greater than 0",
                     id="bad-num-workers"),
        pytest.param('{"type": "local", "workers": 2}',
                     "LocalExecutor.workers: unknown field; known fields: none", id="extra-field"),
        pytest.param({"type": "dask", "cluster_class": "not a path"},
                     "DaskExecutor.cluster_class: expected an import path like "
                     "'distributed.LocalCluster', got 'not a path'", id="bad-cluster-class"),
        pytest.param({"type": "dask", "address": "tcp://a:1",
                      "cluster_class": "distributed.LocalCluster"},
                     "give an address or a cluster_class, not both", id="address-and-class"),
        pytest.param({"type": "dask", "cluster_kwargs": [1]},
                     "DaskExecutor.cluster_kwargs: Input should be a valid dictionary",
                     id="bad-cluster-kwargs"),
        pytest.param(42, "an executor config must be a dict, JSON text, a type name or an "
                     "Executor, got int: 42", id="not-a-config"),
    ],
)
def test_config_errors_name_the_field(config, message) -> None:
    with pytest.raises(ExecutorError) as info:
        executor_from_config(config)
    assert message in str(info.value)


def test_bad_executor_fails_the_run_before_anything_runs(log) -> None:
    with Flow("bad-executor") as flow:
        task(et.ran)(log)
    with pytest.raises(ExecutorError, match="unknown executor type 'nope'"):
        flow.run(executor="nope")
    assert et.lines(log) == []


def test_the_flow_executor_is_the_default_and_a_run_overrides_it(caplog) -> None:
    with Flow("named-executor", executor={"type": "local-dask", "scheduler": "sync"}) as flow:
        t = task(et.inc)(1)
    with caplog.at_level(logging.INFO, logger="jupyter_flows.flow_runner"):
        assert flow.run().result[t].result == 2
        assert flow.run(executor="local").result[t].result == 2
    started = [r.getMessage().rsplit(": ", 1)[1] for r in caplog.records
               if "started with" in r.getMessage()]
    assert started == ["started with LocalDaskExecutor(sync)", "started with LocalExecutor"]


def test_cluster_class_accepts_a_class_and_names_it() -> None:
    assert DaskExecutor(cluster_class=distributed.LocalCluster).cluster_class == (
        "distributed.deploy.local.LocalCluster")

    def make_local_class():
        class Local:
            pass
        return Local

    with pytest.raises(ValueError, match="expected an import path"):
        DaskExecutor(cluster_class=make_local_class())


@pytest.mark.parametrize(
    ("executor", "text"),
    [
        (LocalExecutor(), "LocalExecutor"),
        (LocalDaskExecutor(scheduler="processes"), "LocalDaskExecutor(processes)"),
        (DaskExecutor(address="tcp://h:1"), "DaskExecutor(tcp://h:1)"),
        (DaskExecutor(), "DaskExecutor(temporary LocalCluster)"),
        (DaskExecutor(cluster_class="a.B"), "DaskExecutor(a.B)"),
    ],
    ids=["local", "local-dask", "address", "temporary", "class"],
)
def test_describe(executor, text) -> None:
    assert executor.describe() == text


# ---------------------------------------------------------- clusters made for a run


class RecordingLocalCluster(distributed.LocalCluster):
    """A LocalCluster remembering its instances, to see whether runs close their clusters."""

    instances: list[RecordingLocalCluster] = []

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        RecordingLocalCluster.instances.append(self)
        self.made_with = kwargs


@pytest.fixture
def recording_cluster(monkeypatch):
    RecordingLocalCluster.instances = []
    monkeypatch.setattr(distributed, "LocalCluster", RecordingLocalCluster)
    return RecordingLocalCluster


def _worker_address() -> str:
    return distributed.get_worker().scheduler.address


def _run_on(executor) -> tuple:
    with Flow("temporary-cluster") as flow:
        where = task(_worker_address)()
        total = task(et.total)(task(et.inc).map([1, 2, 3]))
    state = flow.run(executor=executor)
    assert state.is_successful(), state
    return state.result[where].result, state.result[total].result


@pytest.mark.slow
def test_dask_executor_without_address_makes_and_closes_a_local_cluster(
        recording_cluster) -> None:
    address, total = _run_on(DaskExecutor(cluster_kwargs={"n_workers": 1,
                                                          "processes": False}))
    (cluster,) = recording_cluster.instances
    assert total == 9
    assert address == cluster.scheduler_address  # the tasks ran on that cluster
    # processes=False picks the in-process transport (no host may be forced on it)
    assert cluster.scheduler_address.startswith("inproc://")
    assert cluster.status.name == "closed"


@pytest.mark.slow
def test_dask_executor_with_cluster_class_and_adapt(recording_cluster) -> None:
    executor = DaskExecutor(
        cluster_class="distributed.LocalCluster",
        cluster_kwargs={"n_workers": 1, "processes": False, "dashboard_address": None},
        adapt_kwargs={"minimum": 1, "maximum": 1},
    )
    address, total = _run_on(executor)
    (cluster,) = recording_cluster.instances
    assert total == 9
    assert address == cluster.scheduler_address
    assert cluster.made_with["n_workers"] == 1
    assert cluster.status.name == "closed"


@pytest.mark.parametrize(
    ("executor", "message"),
    [
        pytest.param(DaskExecutor(cluster_class="no_such_package.Cluster"),
                     "DaskExecutor.cluster_class: cannot import 'no_such_package.Cluster'",
                     id="cluster-class-not-installed"),
        pytest.param(DaskExecutor(cluster_class="engine_tasks.BrokenCluster",
                                  cluster_kwargs={"size": 3}),
                     "DaskExecutor: cannot start BrokenCluster(**{'size': 3}): no capacity for 3",
                     id="cluster-fails-to-start"),
        pytest.param(DaskExecutor(address="tcp://127.0.0.1:9", client_kwargs={"timeout": "0.5s"}),
                     "DaskExecutor: cannot reach the scheduler at tcp://127.0.0.1:9",
                     id="unreachable-scheduler"),
    ],
)
def test_dask_executor_start_errors(executor, message, log) -> None:
    with Flow("cannot-start") as flow:
        task(et.ran)(log)
    with pytest.raises(ExecutorError) as info:
        flow.run(executor=executor)
    assert message in str(info.value)
    assert et.lines(log) == []


@pytest.mark.slow
def test_a_task_whose_worker_dies_ends_crashed(recording_cluster) -> None:
    import dask

    with Flow("worker-dies") as flow:
        dead = task(et.die)()
        after = task(et.inc)(dead)
    # fail the task at the first lost worker instead of retrying it on restarted ones
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        state = flow.run(executor=DaskExecutor(cluster_kwargs={"n_workers": 1}))
    final = state.result[dead]
    assert final.is_crashed()
    assert final.message.startswith("the executor lost this task run: KilledWorker")
    assert state.result[after].is_crashed()  # its input was lost with the worker
    assert state.is_failed()
    assert recording_cluster.instances[0].status.name == "closed"


def test_a_task_whose_process_dies_on_the_processes_executor_ends_crashed(log) -> None:
    with Flow("process-dies") as flow:
        first = task(et.ran)(log)
        dead = task(et.die)(upstream_tasks=[first])
        after = task(et.inc)(dead)
    state = flow.run(executor=LocalDaskExecutor(scheduler="processes", num_workers=1))
    assert state.result[dead].is_crashed()
    assert "a worker process died" in state.result[dead].message
    assert not state.result[after].is_successful()
    assert state.is_failed()
    # the same flow run again gets a fresh pool: the executor was not left broken
    with Flow("after-death") as again:
        task(et.inc)(1)
    assert again.run(executor=LocalDaskExecutor(scheduler="processes", num_workers=1)
                     ).is_successful()


def test_every_task_run_of_a_wide_stage_comes_back_with_its_own_state(executor) -> None:
    # wide enough that the DaskExecutor gathers the final states in one batch on the cluster
    from jupyter_flows.executors.dask_graphs import BATCH_FROM

    with Flow("wide") as flow:
        incs = [task(et.inc, name=f"inc-{i}")(i) for i in range(BATCH_FROM * 3)]
        summed = task(et.total)(incs)
    state = flow.run(executor=executor)
    assert state.is_successful(), state
    assert [state.result[t].result for t in incs] == list(range(1, BATCH_FROM * 3 + 1))
    assert state.result[summed].result == sum(range(1, BATCH_FROM * 3 + 1))


@pytest.mark.slow
def test_an_interrupted_last_stage_on_dask_keeps_what_finished(local_cluster, log) -> None:
    # the last stage holds one future for all its calls: an interrupt must still tell what
    # finished (with its value), what runs, and cancel the rest
    import time

    from jupyter_flows.engine.hooks import engine_hooks
    from jupyter_flows.executors.base import Call
    from jupyter_flows.executors.dask_batches import scheduler_states

    executor = DaskExecutor(address=local_cluster.scheduler_address)
    with executor.start(engine_hooks(None)) as session:
        session.submit([Call("quick", et.inc, (1,), ("quick", None)),
                        Call("slow", et.hang, (log, 5.0), ("slow", None))], last=True)
        deadline = time.monotonic() + 30
        while not (et.lines(log) and scheduler_states(session.client, ["quick"]) == {
                "quick": "memory"}):
            assert time.monotonic() < deadline, "the calls did not start"
            time.sleep(0.05)
        running = session.running()
        stuck = session.interrupt(grace=0.5)
        done = session.finished()
    assert running == {"slow"}
    assert done == {"quick": 2}
    assert set(stuck) == {"slow"} and stuck["slow"].is_cancelled()
