"""Executors as Prefect 1.x users construct them: positional arguments, dask's scheduler
names, a performance report, and ``dask-resource:`` tags that place tasks on workers."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
from pathlib import Path

import compat_tasks as ct
import pytest

from jupyter_flows import DaskExecutor, Flow, LocalDaskExecutor, task
from jupyter_flows.errors import ExecutorError
from jupyter_flows.executors import executor_from_config
from jupyter_flows.local_backend.processes import stop_processes


@pytest.mark.parametrize(
    ("made", "scheduler"),
    [
        pytest.param(lambda: LocalDaskExecutor("processes"), "processes", id="positional"),
        pytest.param(lambda: LocalDaskExecutor(scheduler="synchronous"), "sync",
                     id="synchronous"),
        pytest.param(lambda: LocalDaskExecutor("single-threaded"), "sync", id="single"),
        pytest.param(lambda: LocalDaskExecutor("threading"), "threads", id="threading"),
        pytest.param(lambda: LocalDaskExecutor(), "threads", id="default"),
    ],
)
def test_local_dask_executor_takes_prefects_forms(made, scheduler) -> None:
    """``LocalDaskExecutor(scheduler="threads", **kwargs)``: the scheduler positionally,
    with dask's names ("synchronous", ...); the stored config uses the canonical name."""
    executor = made()
    assert executor.scheduler == scheduler
    assert executor_from_config(executor.model_dump_json()) == executor


def test_a_synchronous_local_dask_executor_runs() -> None:
    """The "synchronous" scheduler runs tasks one by one in this thread."""
    with Flow("sync") as flow:
        t = task(ct.inc).map([1, 2, 3])
    state = flow.run(executor=LocalDaskExecutor(scheduler="synchronous"))
    assert state.result[t].result == [2, 3, 4]


def test_dask_executor_takes_the_address_positionally() -> None:
    """``DaskExecutor("tcp://...")`` is ``DaskExecutor(address="tcp://...")``; Prefect's
    ``debug=None`` default is accepted."""
    executor = DaskExecutor("tcp://10.0.0.5:8786", debug=None)
    assert executor.address == "tcp://10.0.0.5:8786" and executor.debug is False
    with pytest.raises(TypeError, match="address given twice"):
        DaskExecutor("tcp://a:1", address="tcp://b:2")


HAS_BOKEH = importlib.util.find_spec("bokeh") is not None


@pytest.mark.skipif(HAS_BOKEH, reason="checks the message shown when bokeh is missing")
def test_performance_report_without_bokeh_says_how_to_install_it(log) -> None:
    """Dask writes its performance report with bokeh; without it the run refuses to start,
    naming the field and the extra to install, before any task runs."""
    with Flow("report") as flow:
        task(ct.ran)(log)
    executor = DaskExecutor(cluster_kwargs={"n_workers": 1, "processes": False},
                            performance_report_path="report.html")
    with pytest.raises(ExecutorError, match=r"performance_report_path.*jupyter-flows\[dask-"):
        flow.run(executor=executor)
    assert ct.lines(log) == []


@pytest.mark.slow
@pytest.mark.skipif(not HAS_BOKEH, reason="needs bokeh: pip install 'jupyter-flows[dask-report]'")
def test_performance_report_is_written(tmp_path) -> None:
    """``performance_report_path`` makes the run write Dask's HTML performance report."""
    report = tmp_path / "report.html"
    with Flow("report") as flow:
        task(ct.inc).map([1, 2, 3])
    flow.run(executor=DaskExecutor(cluster_kwargs={"n_workers": 1, "processes": False},
                                   performance_report_path=str(report)))
    assert "<html" in report.read_text()[:2000].lower()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def gpu_cluster(tmp_path_factory):  # type: ignore[no-untyped-def]
    """A scheduler with two worker processes, one of which has the resource GPU=1."""
    from distributed import Client

    workdir = tmp_path_factory.mktemp("gpu-cluster")
    dask = str(Path(sys.executable).with_name("dask"))
    address = f"tcp://127.0.0.1:{_free_port()}"
    port = address.rsplit(":", 1)[1]
    commands = [
        [dask, "scheduler", "--host", "127.0.0.1", "--port", port, "--no-dashboard"],
        [dask, "worker", address, "--nthreads", "1", "--no-dashboard", "--name", "plain",
         "--local-directory", str(workdir)],
        [dask, "worker", address, "--nthreads", "1", "--no-dashboard", "--name", "gpu",
         "--resources", "GPU=1", "--local-directory", str(workdir)],
    ]
    procs = []
    try:
        for i, command in enumerate(commands):
            with open(workdir / f"{i}.log", "wb") as out:
                procs.append(subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                              cwd=workdir, env=os.environ.copy()))
        with Client(address, timeout="30s", set_as_default=False) as client:
            client.wait_for_workers(2, timeout=60)
            gpu = next(a for a, w in client.scheduler_info()["workers"].items()
                       if w.get("resources", {}).get("GPU"))
        yield address, gpu
    finally:
        for proc in reversed(procs):
            stop_processes(proc, timeout=15)


@pytest.mark.slow
def test_dask_resource_tags_place_tasks_on_workers_with_that_resource(gpu_cluster) -> None:
    """Tags ``dask-resource:KEY=NUM`` are passed to Dask as the task's resource needs, so
    the task runs only on workers that have the resource (Prefect's DaskExecutor did)."""
    address, gpu_worker = gpu_cluster
    where = task(ct.where_am_i)
    with Flow("resources") as flow:
        on_gpu = where.map(list(range(8)), task_args={"tags": ["dask-resource:GPU=1"]})
    state = flow.run(executor=DaskExecutor(address))
    assert state.result[on_gpu].result == [gpu_worker] * 8
    # and without the tag the other worker takes work too (so the tag is what placed them)
    with Flow("anywhere") as free:
        anywhere = where.map(list(range(16)))
    assert len(set(free.run(executor=DaskExecutor(address)).result[anywhere].result)) == 2


def test_a_malformed_resource_tag_is_refused() -> None:
    """A ``dask-resource:`` tag must read NAME=AMOUNT."""
    from jupyter_flows.executors.dask import task_resources

    assert task_resources(["etl", "dask-resource:GPU=2"], "t") == {"GPU": 2.0}
    with pytest.raises(ExecutorError, match="should read 'dask-resource:NAME=AMOUNT'"):
        task_resources(["dask-resource:GPU"], "t")
