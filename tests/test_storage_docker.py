"""Docker storage: registration builds an image holding the flow on a real Docker Engine
(``docker_engine``; ``registry_url=None``, so the image stays local), a healthcheck step
loads the flow inside the build, and the Docker agent runs the flow in that image. Also the
rules that keep a run config's image and the storage's image from silently disagreeing,
and the registration rules for platforms that cannot reach a local image."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_claims import make_claim, running_agent, wait_for

from jupyter_flows import Docker, DockerRun, Flow, KubernetesRun, LocalRun, task
from jupyter_flows.agents.base import RunRefused
from jupyter_flows.agents.docker import DockerAgent
from jupyter_flows.client.client import Client
from jupyter_flows.errors import StorageError
from jupyter_flows.storage import storage_from_config
from jupyter_flows.storage.payload import pickle_payload


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from jupyter_flows.server.testing import running_server

    with running_server(tmp_path_factory.mktemp("backend") / "backend.db") as url:
        yield url


def downloaded_wheel(name: str, folder: Path) -> Path:
    import subprocess
    import sys

    subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                    "--only-binary=:all:", "--dest", str(folder), name], check=True)
    [wheel] = folder.glob("*.whl")
    return wheel


def image_flow(name: str, **options: Any) -> Flow:
    """A flow whose task reads what the image's build put in (pickled by value)."""

    @task
    def inspect_image() -> None:
        import os
        from pathlib import Path

        import iniconfig  # installed by python_dependencies

        from jupyter_flows import get_logger

        log = get_logger()
        log.info("greeting: %s", Path("/opt/data/greeting.txt").read_text().strip())
        log.info("extra: %s", Path("/opt/data/extra.txt").read_text().strip())
        log.info("FROM_IMAGE=%s", os.environ.get("FROM_IMAGE"))
        log.info("iniconfig from %s", iniconfig.__file__)

    with Flow(name, **options) as flow:
        inspect_image()
    return flow


@pytest.mark.slow
def test_register_builds_the_image_and_the_docker_agent_runs_the_flow_in_it(
        docker_engine: Any, flows_image: str, backend: str, tmp_path: Path) -> None:
    client = Client(backend)
    greeting = tmp_path / "greeting.txt"
    greeting.write_text("hello from a file\n")
    # the builds here cannot verify PyPI's certificate (this machine's TLS proxy), so the
    # dependency is a wheel this machine's pip fetched, copied in with `files`
    wheel = downloaded_wheel("iniconfig", tmp_path / "wheels")
    storage = Docker(base_image=flows_image, base_url=docker_engine.base_url,
                     image_name="jupyter-flows-test/stored", env_vars={"FROM_IMAGE": "yes"},
                     files={str(greeting): "/opt/data/greeting.txt",
                            str(wheel): f"/opt/wheels/{wheel.name}"},
                     python_dependencies=[f"/opt/wheels/{wheel.name}"],
                     extra_dockerfile_commands=["RUN echo built-here > /opt/data/extra.txt"])
    flow = image_flow("stored in an image", storage=storage,
                      run_config=DockerRun(host_config={"network_mode": "host"}))
    record = flow.register(client=client)
    stored = record.storage
    assert stored["type"] == "docker" and stored["registry_url"] is None
    image = f"jupyter-flows-test/stored:{stored['image_tag']}"
    assert storage.image == image
    docker_engine.client.images.get(image)  # built here, not pushed anywhere
    assert stored["location"].startswith("/opt/flows/stored-in-an-image/")

    run_id = client.create_flow_run(record.id).id
    # no --image: the agent runs the storage's image
    with running_agent(DockerAgent(client, base_url=docker_engine.base_url, poll_wait=0.5)):
        final = wait_for(lambda: (r := client.get_flow_run(run_id)).state in {
            "Success", "Failed", "Crashed"} and r, 120, "the run to end")
    logs = [r.message for r in client.read_logs(run_id).items]
    assert final.state == "Success", (final.state_message, logs)
    assert "greeting: hello from a file" in logs
    assert "extra: built-here" in logs and "FROM_IMAGE=yes" in logs
    assert any(m.startswith("iniconfig from /opt/jupyter-flows/lib/") for m in logs), logs



@pytest.mark.slow
def test_a_flow_that_cannot_load_in_the_image_fails_registration_with_the_build_error(
        docker_engine: Any, flows_image: str, backend: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "helpers_only_here.py").write_text(textwrap.dedent("""
        def double(x):
            return 2 * x
    """))
    monkeypatch.syspath_prepend(str(tmp_path))
    from helpers_only_here import double  # importable here, so pickled by reference

    with Flow("needs a helper module", storage=Docker(
            base_image=flows_image, base_url=docker_engine.base_url,
            image_name="jupyter-flows-test/broken")) as flow:
        task(double)(2)
    client = Client(backend)
    with pytest.raises(StorageError) as raised:
        flow.register(client=client)
    message = str(raised.value)
    assert message.startswith("building image jupyter-flows-test/broken:")
    assert "healthcheck: flow 'needs a helper module' cannot be loaded in this image" in message
    assert "needs module 'helpers_only_here'" in message
    assert client.list_flows(name="needs a helper module").items == []


# ------------------------------------------------------------------ the rules
def test_a_run_config_image_other_than_the_storages_is_refused_at_registration() -> None:
    flow = image_flow("conflict", storage=Docker(base_image="base:1", image_tag="v1",
                                                 image_name="acme/flow"),
                      run_config=DockerRun(image="acme/other:2"))
    with pytest.raises(StorageError, match=r"stored with Docker storage in image acme/flow:v1,"
                       r" but the run config's image is 'acme/other:2'"):
        flow.register(client=Client("http://127.0.0.1:9"))  # refused before any call


@pytest.mark.parametrize(("run_config", "message"), [
    (KubernetesRun(), "a KubernetesRun pulls images from a registry: set"
                      " Docker(registry_url=...)"),
    (LocalRun(), "which a LocalRun cannot load (it runs outside any image)"),
])
def test_platforms_that_cannot_reach_a_local_image_are_refused(run_config: Any,
                                                                message: str) -> None:
    flow = image_flow("unreachable", storage=Docker(base_image="base:1"),
                      run_config=run_config)
    with pytest.raises(StorageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        flow.register(client=Client("http://127.0.0.1:9"))


def test_with_a_registry_a_kubernetes_agent_runs_the_storages_image() -> None:
    from jupyter_flows.agents.kubernetes import KubernetesAgent
    from jupyter_flows.agents.kubernetes_job import flow_container

    storage = {"type": "docker", "registry_url": "ghcr.io/acme", "image_name": "etl",
               "image_tag": "abc123", "location": "/opt/flows/etl/x.flow"}
    agent = KubernetesAgent(api_client=object(), image="agent/default:1")
    job = agent.job_for(make_claim({"type": "kubernetes"}, storage=storage))
    assert flow_container(job)["image"] == "ghcr.io/acme/etl:abc123"
    with pytest.raises(RunRefused, match=r"but KubernetesRun\.image is 'other:1'"):
        agent.job_for(make_claim({"type": "kubernetes", "image": "other:1"}, storage=storage))
    same = make_claim({"type": "kubernetes", "image": "ghcr.io/acme/etl:abc123"},
                      storage=storage)
    assert flow_container(agent.job_for(same))["image"] == "ghcr.io/acme/etl:abc123"


def test_the_docker_agent_refuses_a_conflicting_image_at_launch() -> None:
    storage = {"type": "docker", "image_name": "etl", "image_tag": "t1", "location": "/x"}
    agent = DockerAgent(docker_client=object())
    with pytest.raises(RunRefused, match=r"in image etl:t1, but DockerRun\.image is 'etl:t2'"):
        agent.launch(make_claim({"type": "docker", "image": "etl:t2"}, storage=storage))


@pytest.mark.parametrize(("fields", "message"), [
    ({"base_image": "a:1", "dockerfile": "Dockerfile"}, "give base_image or dockerfile"),
    ({"image_name": "Has Spaces"}, "expected a Docker image name"),
    ({"image_tag": "-bad"}, "expected a Docker tag"),
    ({"files": {"a.txt": "relative/a.txt"}}, "not an absolute path in the image"),
    ({"env_vars": {"1BAD": "x"}}, "'1BAD' is not an environment variable name"),
])
def test_bad_fields_are_refused_naming_them(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(StorageError, match=message) as raised:
        storage_from_config({"type": "docker", **fields})
    # a field's rule reads "Docker.field: ...", a rule between fields "Docker: ..."
    assert str(raised.value).startswith(("Docker.", "Docker: "))
    assert "Value error" not in str(raised.value)


def test_the_dockerfile_has_each_step_and_ends_with_the_healthcheck(tmp_path: Path) -> None:
    storage = Docker(base_image="jupyter-flows:0.1.0", env_vars={"A": "1 2"},
                     python_dependencies=["pandas>=2", "pyarrow"],
                     extra_dockerfile_commands=["RUN echo hi"])
    payload = pickle_payload(image_flow("text"))
    text = storage.dockerfile_text(payload, {"jupyter-flows-files/0": "/opt/data/x"})
    location = storage.payload_path(payload)
    assert text.splitlines() == [
        "FROM jupyter-flows:0.1.0",
        'ENV A="1 2"',
        'COPY ["jupyter-flows-files/0", "/opt/data/x"]',
        "RUN python -m pip install --no-cache-dir 'pandas>=2' pyarrow",
        f'COPY ["flow.payload", "{location}"]',
        "RUN echo hi",
        f'RUN ["python", "-m", "jupyter_flows.storage.healthcheck", "{location}", "text"]',
    ]
    # the default tag: the same inputs, the same tag; any change, another
    tag = storage.default_tag(text, payload, {})
    assert tag == storage.default_tag(text, payload, {}) != storage.default_tag(
        text + "RUN true\n", payload, {})
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM my/base:3\nRUN apt-get update\n")
    own = Docker(dockerfile=str(dockerfile), ignore_healthchecks=True)
    assert own.dockerfile_text(payload, {}).splitlines()[:3] == [
        "FROM my/base:3", "RUN apt-get update", ""]
    assert "healthcheck" not in own.dockerfile_text(payload, {})


def test_loading_outside_the_image_says_where_the_flow_is() -> None:
    storage = Docker(image_name="etl", image_tag="t1")
    with pytest.raises(StorageError, match=r"Docker storage keeps the flow inside image"
                       r" etl:t1, and this process does not run in it"):
        storage.get_flow("/opt/flows/etl/missing.flow")
