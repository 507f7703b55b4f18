"""The Docker agent against a real Docker Engine (our own ``dockerd``, ``docker_engine``):
flow runs go agent -> container (host network, so it reaches the backend on 127.0.0.1) ->
``jupyter-flows execute flow-run`` in the image built from the repository's Dockerfile.

Also what only a real engine can show: the environment the process in the container sees,
labels and host config as the engine applied them, a Local storage directory mounted at
the same path, an image that cannot be pulled, a non-zero exit, an OOM kill under
``mem_limit``, a container killed from outside, and ``stop_run`` stopping a container.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_claims import agent_process, running_agent, wait_for

from jupyter_flows import DockerRun, Flow, Local, task
from jupyter_flows.agents.docker import RUN_ID_LABEL, DockerAgent
from jupyter_flows.client.client import Client

pytestmark = pytest.mark.slow
FINAL = {"Success", "Failed", "Crashed", "Cancelled", "TimedOut"}


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from jupyter_flows.server.testing import running_server

    with running_server(tmp_path_factory.mktemp("backend") / "backend.db") as url:
        yield url


@pytest.fixture
def client(backend: str) -> Client:
    return Client(backend)


def env_flow(name: str, keys: list[str], *, sleep: float = 0.0,
             allocate_mib: int = 0, **options: Any) -> Flow:
    """A flow whose task logs the values of ``keys`` in its environment, then sleeps or
    allocates memory (pickled by value: defined in a function)."""

    @task
    def report() -> None:
        import os
        import time

        from jupyter_flows import get_logger

        for key in keys:
            get_logger().info("env %s=%s", key, os.environ.get(key))
        if allocate_mib:
            blocks = [bytearray(2**20) for _ in range(allocate_mib)]
            get_logger().info("allocated %d MiB", len(blocks))
        time.sleep(sleep)

    with Flow(name, **options) as flow:
        report()
    return flow


def logs_of(client: Client, run_id: str) -> list[str]:
    return [record.message for record in client.read_logs(run_id).items]


def wait_until(client: Client, run_id: str, states: set[str], timeout: float = 120) -> Any:
    return wait_for(lambda: (r := client.get_flow_run(run_id)).state in states and r,
                    timeout, f"flow run {run_id} to be {' or '.join(sorted(states))}")


def agent_for(engine: Any, client: Client, **options: Any) -> DockerAgent:
    options.setdefault("poll_wait", 0.5)
    options.setdefault("networks", ["host"])
    return DockerAgent(client, base_url=engine.base_url, **options)


def register_run(client: Client, flow: Flow) -> str:
    record = flow.register(client=client)
    return client.create_flow_run(record.id).id


# ------------------------------------------------------------------ end to end
def test_a_docker_run_goes_end_to_end_in_a_real_container(
        docker_engine: Any, flows_image: str, backend: str, client: Client,
        tmp_path: Path) -> None:
    """The agent as a real ``jupyter-flows agent docker start`` process; the flow in Local
    storage on a volume mounted at the same path."""
    import os

    flows = tmp_path / "flows"
    keys = ["FROM_AGENT", "TIER", "FROM_RUN", "JUPYTER_FLOWS_FLOW_RUN_ID", "PYTHONUNBUFFERED"]
    flow = env_flow("docker real e2e", keys, storage=Local(directory=str(flows)),
                    run_config=DockerRun(
                        image=flows_image, labels=["real-docker"],
                        env={"TIER": "run", "FROM_RUN": "1",
                             "JUPYTER_FLOWS_FLOW_RUN_ID": "overridden?"},
                        host_config={"mem_limit": "768m", "pids_limit": 512}))
    run_id = register_run(client, flow)
    env = {**os.environ, "JUPYTER_FLOWS_BACKEND_URL": backend}
    args = ["docker", "start", "--base-url", docker_engine.base_url, "--network", "host",
            "--volume", f"{flows}:{flows}", "--label", "real-docker", "--env",
            "FROM_AGENT=1", "--env", "TIER=agent", "--poll-wait", "0.5", "--name",
            "real-docker-e2e", "--keep-containers"]
    with agent_process(args, env, tmp_path / "agent.log"):
        final = wait_until(client, run_id, FINAL)
    assert final.state == "Success", (final.state_message, logs_of(client, run_id),
                                      (tmp_path / "agent.log").read_text())
    assert final.agent_name == "real-docker-e2e"
    logs = logs_of(client, run_id)
    # agent < agent --env < run config env < what the run needs, as the container saw it
    for line in ("env FROM_AGENT=1", "env TIER=run", "env FROM_RUN=1",
                 f"env JUPYTER_FLOWS_FLOW_RUN_ID={run_id}", "env PYTHONUNBUFFERED=1"):
        assert line in logs, logs
    [container] = docker_engine.client.containers.list(
        all=True, filters={"label": f"{RUN_ID_LABEL}={run_id}"})
    labels = container.labels
    assert labels["io.jupyter-flows.flow-name"] == "docker real e2e"
    assert labels["io.jupyter-flows.agent"] == "real-docker-e2e"
    assert labels["io.jupyter-flows.flow-id"] == final.flow_id
    host = container.attrs["HostConfig"]
    assert host["Memory"] == 768 * 2**20 and host["PidsLimit"] == 512
    assert host["NetworkMode"] == "host" and host["Init"] is True
    assert host["Binds"] == [f"{flows}:{flows}"]
    assert container.attrs["State"]["ExitCode"] == 0
    assert container.attrs["Config"]["Cmd"] == ["python", "-m", "jupyter_flows", "execute",
                                                "flow-run", run_id]
    container.remove()


def test_an_image_that_cannot_be_pulled_fails_the_run_with_dockers_reason(
        docker_engine: Any, client: Client) -> None:
    from jupyter_flows import S3
    from jupyter_flows.deploy.register import config_json

    missing = "127.0.0.1:9/acme/missing:1"  # nothing listens on port 9 (discard)
    # S3 storage, never read: the run fails before any container exists
    record = client.register_flow(
        "missing image", {"tasks": []},
        storage={**config_json(S3(bucket="never-read")), "location": "k"},
        run_config=config_json(DockerRun(image=missing)))
    run_id = client.create_flow_run(record.id).id
    with running_agent(agent_for(docker_engine, client)):
        final = wait_until(client, run_id, FINAL, 60)
    assert final.state == "Failed"  # not Crashed: starting it again fails the same way
    message = final.state_message or ""
    assert message.startswith(f"image {missing!r} is not on the Docker host and pulling it"
                              " failed: ")
    assert "connection refused" in message, message
    assert docker_engine.client.containers.list(
        all=True, filters={"label": f"{RUN_ID_LABEL}={run_id}"}) == []


@pytest.fixture(scope="module")
def exits_4_image(docker_engine: Any, flows_image: str, tmp_path_factory: Any) -> str:
    """An image whose ENTRYPOINT (which the agent keeps) prints a line and exits 4 (not 3,
    which a flow-run process uses to say it did not start its run: the claim is handed back)."""
    from docker_engine import build_image

    context = tmp_path_factory.mktemp("exits-4")
    (context / "Dockerfile").write_text(
        f"FROM {flows_image}\n"
        'ENTRYPOINT ["sh", "-c", "echo \\"entrypoint: the config file is missing\\" >&2;'
        ' exit 4", "--"]\n')
    build_image(docker_engine, context, "jupyter-flows-test-exits:4")
    return "jupyter-flows-test-exits:4"


def test_a_non_zero_exit_crashes_the_run_with_the_code_and_last_line(
        docker_engine: Any, exits_4_image: str, client: Client, tmp_path: Path) -> None:
    flow = env_flow("exits 4", [], storage=Local(directory=str(tmp_path)),
                    run_config=DockerRun(image=exits_4_image))
    run_id = register_run(client, flow)
    with running_agent(agent_for(docker_engine, client, volumes=[f"{tmp_path}:{tmp_path}"])):
        final = wait_until(client, run_id, FINAL)
    assert final.state == "Crashed" and final.exit_code == 4
    assert "exited with code 4: entrypoint: the config file is missing" in (
        final.state_message or "")
    assert any("entrypoint: the config file is missing" in line
               for line in logs_of(client, run_id))


def test_an_oom_kill_under_mem_limit_crashes_the_run_with_the_oom_reason(
        docker_engine: Any, flows_image: str, client: Client, tmp_path: Path) -> None:
    flow = env_flow("oom", [], allocate_mib=1024, storage=Local(directory=str(tmp_path)),
                    run_config=DockerRun(image=flows_image, host_config={
                        "mem_limit": "256m", "memswap_limit": "256m"}))
    run_id = register_run(client, flow)
    with running_agent(agent_for(docker_engine, client, volumes=[f"{tmp_path}:{tmp_path}"])):
        final = wait_until(client, run_id, FINAL)
    assert final.state == "Crashed" and final.exit_code == 137
    message = final.state_message or ""
    assert "exit code 137: OOMKilled: container " in message, message
    assert "used more than its memory limit of 256 MiB and was killed" in message
    assert "(while the run was Running)" in message


def test_a_container_killed_from_outside_crashes_the_run_with_the_signal(
        docker_engine: Any, flows_image: str, client: Client, tmp_path: Path) -> None:
    flow = env_flow("killed", [], sleep=120, storage=Local(directory=str(tmp_path)),
                    run_config=DockerRun(image=flows_image))
    run_id = register_run(client, flow)
    with running_agent(agent_for(docker_engine, client, volumes=[f"{tmp_path}:{tmp_path}"])):
        wait_until(client, run_id, {"Running"})
        [container] = docker_engine.client.containers.list(
            filters={"label": f"{RUN_ID_LABEL}={run_id}"})
        container.kill()  # docker kill: SIGKILL, from outside the agent
        final = wait_until(client, run_id, FINAL)
    assert final.state == "Crashed" and final.exit_code == 137
    assert "was killed from outside the agent (SIGKILL: docker kill or docker stop) and" \
           " exited with code 137" in (final.state_message or ""), final.state_message


def test_stop_run_stops_the_container_with_sigterm_within_the_grace_period(
        docker_engine: Any, flows_image: str, client: Client, tmp_path: Path) -> None:
    flow = env_flow("stopped", [], sleep=120, storage=Local(directory=str(tmp_path)),
                    run_config=DockerRun(image=flows_image))
    run_id = register_run(client, flow)
    agent = agent_for(docker_engine, client, volumes=[f"{tmp_path}:{tmp_path}"],
                      remove=False)
    with running_agent(agent):
        wait_until(client, run_id, {"Running"})
        assert agent.stop_run("no-such-run", grace=1) is False
        assert agent.stop_run(run_id, grace=30) is True
        final = wait_until(client, run_id, FINAL)
    [container] = docker_engine.client.containers.list(
        all=True, filters={"label": f"{RUN_ID_LABEL}={run_id}"})
    # 143 = 128 + SIGTERM: Docker's init passed SIGTERM on and the process ended on it,
    # rather than being SIGKILLed (137) when the grace period ran out
    assert container.attrs["State"]["ExitCode"] == 143
    assert final.state == "Crashed" and final.exit_code == 143
    assert "was stopped on request (exit code 143)" in (final.state_message or "")
    container.remove()


def test_stop_run_finds_a_container_by_its_label_after_an_agent_restart(
        docker_engine: Any, flows_image: str, client: Client, tmp_path: Path) -> None:
    flow = env_flow("stopped later", [], sleep=120, storage=Local(directory=str(tmp_path)),
                    run_config=DockerRun(image=flows_image))
    run_id = register_run(client, flow)
    with running_agent(agent_for(docker_engine, client, volumes=[f"{tmp_path}:{tmp_path}"])):
        wait_until(client, run_id, {"Running"})
        restarted = agent_for(docker_engine, client)  # knows nothing it launched
        assert restarted.stop_run(run_id, grace=30) is True
        final = wait_until(client, run_id, FINAL)
    assert final.state == "Crashed" and final.exit_code == 143
    # to the agent that launched it, the stop came from outside
    assert "was killed from outside the agent (SIGTERM: docker kill or docker stop)" in (
        final.state_message or "")


# ------------------------------------------------------------------ cancel
def marking_flow(name: str, marks: Path, *, steps: int, seconds: float,
                 stubborn: bool = False, **options: Any) -> Flow:
    """A chain of tasks that each write ``start-<i>`` (the time) into ``marks`` (a volume
    the container shares), then work in Python in small steps; a ``stubborn`` one swallows
    every interrupt, so only a kill stops it."""

    @task
    def step(i: int, after: Any = None) -> int:
        import time

        (marks / f"start-{i}").write_text(repr(time.time()))
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                time.sleep(0.02)
            except BaseException:
                if not stubborn:
                    raise
        (marks / f"done-{i}").write_text(repr(time.time()))
        return i

    with Flow(name, **options) as flow:
        previous = None
        for i in range(steps):
            previous = step(i, after=previous)
    return flow


def starts_in(marks: Path) -> list[float]:
    return sorted(float(path.read_text()) for path in marks.glob("start-*"))


def run_container(docker_engine: Any, run_id: str) -> Any:
    [container] = docker_engine.client.containers.list(
        all=True, filters={"label": f"{RUN_ID_LABEL}={run_id}"})
    return container


def test_cancel_stops_the_run_inside_its_container(
        docker_engine: Any, flows_image: str, client: Client, tmp_path: Path) -> None:
    import time

    marks = tmp_path / "marks"
    marks.mkdir()
    flow = marking_flow("cancelled in docker", marks, steps=12, seconds=2.0,
                        storage=Local(directory=str(tmp_path / "flows")),
                        run_config=DockerRun(image=flows_image))
    run_id = register_run(client, flow)
    agent = agent_for(docker_engine, client, volumes=[f"{tmp_path}:{tmp_path}"],
                      remove=False, cancel_grace=60)
    with running_agent(agent):
        wait_for(lambda: len(starts_in(marks)) >= 2, 120, "two tasks to start")
        cancelled_at = time.time()
        assert client.cancel_flow_run(run_id).state == "Cancelling"
        final = wait_until(client, run_id, FINAL, 60)
        container = run_container(docker_engine, run_id)
        wait_for(lambda: (container.reload(), container.status)[1] == "exited", 30,
                 "the container to exit")
    assert final.state == "Cancelled", final.state_message
    # the flow-run process in the container stopped itself: no kill was needed
    assert final.state_message.startswith("cancelled on request"), final.state_message
    assert "killed" not in final.state_message
    assert [when for when in starts_in(marks) if when > cancelled_at] == []
    assert len(starts_in(marks)) < 12
    task_runs = client.get_task_runs(run_id)
    assert not [t for t in task_runs if t.state in ("Running", "Pending")]
    assert any(t.state == "Cancelled" for t in task_runs)
    assert container.attrs["State"]["OOMKilled"] is False
    container.remove()


def test_a_container_that_ignores_the_cancel_is_killed_after_the_grace(
        docker_engine: Any, flows_image: str, client: Client, tmp_path: Path) -> None:
    import time

    marks = tmp_path / "marks"
    marks.mkdir()
    flow = marking_flow("stubborn in docker", marks, steps=1, seconds=600, stubborn=True,
                        storage=Local(directory=str(tmp_path / "flows")),
                        run_config=DockerRun(image=flows_image))
    run_id = register_run(client, flow)
    agent = agent_for(docker_engine, client, volumes=[f"{tmp_path}:{tmp_path}"],
                      remove=False, cancel_grace=2)
    with running_agent(agent):
        wait_for(lambda: starts_in(marks), 120, "the stubborn task to start")
        t0 = time.monotonic()
        client.cancel_flow_run(run_id)
        time.sleep(1.0)
        assert client.get_flow_run(run_id).state == "Cancelling"  # it ignored the interrupt
        final = wait_until(client, run_id, FINAL, 60)
        took = time.monotonic() - t0
        container = run_container(docker_engine, run_id)
        wait_for(lambda: (container.reload(), container.status)[1] == "exited", 30,
                 "the container to be gone")
    assert final.state == "Cancelled", final.state_message
    assert "after 2 s grace" in final.state_message and "killed" in final.state_message
    assert took >= 2.0
    assert container.attrs["State"]["ExitCode"] == 137  # SIGKILLed: no second grace
    assert not (marks / "done-0").exists()
    assert {t.state for t in client.get_task_runs(run_id) if t.task_slug != "tag"} == {
        "Cancelled"}
    container.remove()
