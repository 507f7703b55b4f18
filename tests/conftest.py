"""Shared fixtures: the ``executor`` fixture that runs each engine test on every executor,
and the two Dask clusters it needs (one LocalCluster, one real ``dask scheduler`` plus
``dask worker`` pair), each started once per session and only when a test asks for it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jupyter_flows import DaskExecutor, LocalDaskExecutor, LocalExecutor
from jupyter_flows.local_backend.processes import stop_processes

TESTS_DIR = Path(__file__).resolve().parent

# Worker processes (multiprocessing pools, Dask workers) unpickle task functions by
# reference, so they must import ``engine_tasks`` from this directory. Spawned children get
# the parent's sys.path, but the `dask worker` command does not: export it for everyone,
# before any cluster starts.
os.environ["PYTHONPATH"] = os.pathsep.join(
    [str(TESTS_DIR), *filter(None, [os.environ.get("PYTHONPATH")])]
)

EXECUTOR_KINDS = [
    pytest.param("local", id="local"),
    pytest.param("threads", id="threads"),
    pytest.param("processes", id="processes"),
    pytest.param("dask-local-cluster", id="dask-local-cluster", marks=pytest.mark.slow),
    pytest.param("dask-cli", id="dask-cli", marks=pytest.mark.slow),
]
IN_PROCESS = {"local", "threads"}


@pytest.fixture(params=EXECUTOR_KINDS)
def executor(request: pytest.FixtureRequest) -> Any:
    """Every executor the engine supports; the Dask ones on session-wide clusters."""
    return make_executor(request, request.param)


@pytest.fixture(params=[p for p in EXECUTOR_KINDS if p.values[0] in IN_PROCESS])
def in_process_executor(request: pytest.FixtureRequest) -> Any:
    """The executors whose tasks run in this process, for tests reading their log records
    with ``caplog`` (workers elsewhere log to their own process)."""
    return make_executor(request, request.param)


def make_executor(request: pytest.FixtureRequest, kind: str) -> Any:
    if kind == "local":
        return LocalExecutor()
    if kind == "threads":
        # more threads than cores, so hung tasks do not starve the others
        return LocalDaskExecutor(scheduler="threads", num_workers=4)
    if kind == "processes":
        return LocalDaskExecutor(scheduler="processes", num_workers=2)
    if kind == "dask-local-cluster":
        return DaskExecutor(address=request.getfixturevalue("local_cluster").scheduler_address)
    if kind == "dask-cli":
        return DaskExecutor(address=request.getfixturevalue("dask_cli_address"))
    raise AssertionError(f"unknown executor kind {kind!r}")


@pytest.fixture
def executor_kind(request: pytest.FixtureRequest) -> str:
    """The id of the executor the current test runs on ("local", "processes", ...)."""
    for name in ("executor", "in_process_executor"):
        if name in request.fixturenames:
            return str(request.node.callspec.params[name])
    raise AssertionError("executor_kind needs the executor fixture")


@pytest.fixture
def log(tmp_path: Path) -> str:
    """A side-effect file tasks append lines to (they may run in other processes)."""
    return str(tmp_path / "side-effects.log")


# ------------------------------------------------------------------------- clusters


@pytest.fixture(scope="session")
def local_cluster() -> Iterator[Any]:
    from distributed import LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=2, processes=True,
                           host="127.0.0.1", dashboard_address=None)
    try:
        yield cluster
    finally:
        cluster.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(proc: subprocess.Popen[bytes]) -> None:
    stop_processes(proc, timeout=15)


@pytest.fixture(scope="session")
def dask_cli_address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real ``dask scheduler`` and ``dask worker`` on 127.0.0.1, as separate processes."""
    from distributed import Client

    workdir = tmp_path_factory.mktemp("dask-cli")
    dask_bin = str(Path(sys.executable).with_name("dask"))
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    commands = {
        "scheduler": [dask_bin, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                      "--no-dashboard"],
        "worker": [dask_bin, "worker", address, "--nworkers", "1", "--nthreads", "2",
                   "--no-dashboard", "--local-directory", str(workdir)],
    }
    procs: dict[str, subprocess.Popen[bytes]] = {}
    try:
        for name, command in commands.items():
            with open(workdir / f"{name}.log", "wb") as out:
                procs[name] = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                               cwd=workdir, env=os.environ.copy())
        try:
            with Client(address, timeout="30s", set_as_default=False) as client:
                client.wait_for_workers(1, timeout=60)
        except Exception as exc:
            logs = {n: (workdir / f"{n}.log").read_text(errors="replace")[-3000:] for n in procs}
            pytest.fail(f"dask scheduler/worker did not come up at {address}: {exc}\n{logs}")
        yield address
    finally:
        for name in ("worker", "scheduler"):
            if name in procs:
                _stop(procs[name])


POSTGRES_URL = os.environ.get("JUPYTER_FLOWS_TEST_POSTGRES_URL", "")


@pytest.fixture
def pg_url() -> str:
    """The test PostgreSQL (scripts/postgres.sh starts one), emptied: no tables, no revision."""
    if not POSTGRES_URL:
        pytest.skip("set JUPYTER_FLOWS_TEST_POSTGRES_URL to run the PostgreSQL tests")
    from sqlalchemy import create_engine, text

    engine = create_engine(POSTGRES_URL)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return POSTGRES_URL


# --------------------------------------------------------------------- Docker Engine
@pytest.fixture(scope="session")
def docker_engine() -> Iterator[Any]:
    """Our own ``dockerd`` (``docker_engine.DockerEngine``) for the whole session.

    Skips, saying why, when this machine cannot run it; with JUPYTER_FLOWS_REQUIRE_DOCKER=1
    (scripts/test.sh sets it as root on Linux) that is a failure instead, so a machine that
    should run containers never passes by skipping them.
    """
    from docker_engine import (
        DockerEngine,
        EngineUnavailable,
        base_image,
        engine_problem,
        remove_root,
    )

    required = os.environ.get("JUPYTER_FLOWS_REQUIRE_DOCKER") == "1"
    root = Path(tempfile.mkdtemp(prefix="jf-docker-", dir="/tmp"))
    engine = None
    try:
        try:
            problem = engine_problem()
            if problem:
                raise EngineUnavailable(problem)
            engine = DockerEngine.start(root)
            engine.check_runs_containers(base_image(engine))
        except EngineUnavailable as exc:
            message = f"NO REAL DOCKER ENGINE: {exc}"
            if required:
                pytest.fail(f"{message} (JUPYTER_FLOWS_REQUIRE_DOCKER=1)", pytrace=False)
            pytest.skip(message)
        yield engine
    finally:
        if engine is not None:
            engine.stop()
        remove_root(root)


@pytest.fixture(scope="session")
def flows_image(docker_engine: Any) -> str:
    """The repository's Dockerfile built on the Debian base (cached between sessions)."""
    from docker_engine import project_image

    return project_image(docker_engine)
