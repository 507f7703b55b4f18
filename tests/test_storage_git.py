"""Git and GitHub storage against real repositories: made with ``git``, read over file://
and over smart HTTP (``git http-backend`` on 127.0.0.1, ``git_server``), by dulwich.

Registration stores nothing and checks the script at its ref; runs load the commit they
were registered against, through a local agent and in a real Docker container.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fake_claims import running_agent, wait_for
from git_server import Repository, serving

from jupyter_flows import DockerRun, Git, GitHub, KubernetesRun, LocalRun
from jupyter_flows.client.client import Client
from jupyter_flows.errors import StorageError
from jupyter_flows.storage.payload import flow_from_script

SCRIPT = '''
from jupyter_flows import Flow, task, get_logger

VERSION = "{version}"


@task
def hello():
    get_logger().info("script version %s", VERSION)
    return VERSION


with Flow("from git") as flow:
    hello()
'''


def script(version: str) -> str:
    return SCRIPT.format(version=version)


@pytest.fixture
def repo(tmp_path: Path) -> Repository:
    """main: v1 (tagged v1.0) then v2; branch dev: v3."""
    repository = Repository(tmp_path / "repos")
    repository.commit({"flows/etl.py": script("v1")}, "v1")
    repository.tag("v1.0")
    repository.commit({"flows/etl.py": script("v2")}, "v2")
    repository.commit({"flows/etl.py": script("v3")}, "v3", branch="dev")
    return repository


@pytest.fixture
def http(repo: Repository) -> Iterator[str]:
    with serving(repo.bare.parent) as base:
        yield f"{base}/{repo.bare.name}"


def github_layout(repo: Repository) -> Path:
    """A folder where the repository is ``acme/flows.git``, as GitHub lays out repos."""
    root = repo.bare.parent.parent / "github"
    (root / "acme").mkdir(parents=True, exist_ok=True)
    (root / "acme" / repo.bare.name).symlink_to(repo.bare)
    return root


def version_of(storage: Any, location: str) -> str:
    return str(storage.get_flow(location).tasks[0].run())


def local_flow() -> Any:
    return flow_from_script(script("local"), "etl.py", "from git")


# ------------------------------------------------------------------ registration
def test_registration_checks_the_script_at_its_ref_and_pins_the_commit(
        repo: Repository) -> None:
    storage = Git(repo=repo.url, flow_path="flows/etl.py")
    location = storage.add_flow(local_flow())
    assert location == f"{repo.commits['v2']}:flows/etl.py"  # the default branch's tip
    assert storage.flow_name == "from git"  # kept in the config the runs load with
    # pushing after registration does not change what the registered flow runs
    repo.commit({"flows/etl.py": script("v4")}, "v4", branch="main")
    assert version_of(storage, location) == "v2"


@pytest.mark.parametrize(("ref", "version"), [
    ({"branch_name": "dev"}, "v3"),
    ({"tag": "v1.0"}, "v1"),  # an annotated tag
    ({}, "v2"),
])
def test_branch_tag_and_default_branch_over_http(repo: Repository, http: str,
                                                 ref: dict[str, str], version: str) -> None:
    storage = Git(repo=http, flow_path="flows/etl.py", **ref)
    assert version_of(storage, storage.add_flow(local_flow())) == version


def test_a_commit_that_is_not_a_tip_is_fetched_with_history(repo: Repository,
                                                            http: str) -> None:
    storage = Git(repo=http, flow_path="flows/etl.py", commit=repo.commits["v1"])
    location = storage.add_flow(local_flow())
    assert location == f"{repo.commits['v1']}:flows/etl.py"
    assert version_of(storage, location) == "v1"


@pytest.mark.parametrize(("fields", "message"), [
    ({"flow_path": "flows/missing.py"}, "has no file 'flows/missing.py' at commit"),
    ({"flow_path": "flows/etl.py", "branch_name": "nope"},
     "has no refs/heads/nope (it has refs/heads/dev, refs/heads/main, refs/tags/v1.0)"),
    ({"flow_path": "flows/etl.py", "flow_name": "other"},
     "defines no flow named 'other'; flows found: 'from git'"),
    ({"flow_path": "flows/etl.py", "commit": "0" * 40}, "has no commit 0000000000"),
])
def test_registration_refuses_what_the_repository_does_not_have(
        repo: Repository, http: str, fields: dict[str, str], message: str) -> None:
    with pytest.raises(StorageError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Git(repo=http, **fields).add_flow(local_flow())


def test_an_unreachable_repository_is_named_in_the_error(tmp_path: Path) -> None:
    from jupyter_flows.server.testing import free_port

    url = f"http://127.0.0.1:{free_port()}/nothing.git"
    with pytest.raises(StorageError, match=f"cannot fetch HEAD of repository {url}: "):
        Git(repo=url, flow_path="a.py").add_flow(local_flow())


def test_a_token_from_the_environment_authenticates_and_never_shows(
        repo: Repository, monkeypatch: pytest.MonkeyPatch) -> None:
    with serving(github_layout(repo), token="s3cret-token") as base:
        storage = GitHub(repo="acme/flows", path="flows/etl.py", ref="dev",
                         base_url=base, access_token_secret="GITHUB_TOKEN_FOR_TESTS")
        with pytest.raises(StorageError, match="no environment variable"
                           " GITHUB_TOKEN_FOR_TESTS is set here"):
            storage.add_flow(local_flow())
        monkeypatch.setenv("GITHUB_TOKEN_FOR_TESTS", "wrong")
        with pytest.raises(StorageError) as refused:
            storage.add_flow(local_flow())
        assert "wrong" not in str(refused.value)
        monkeypatch.setenv("GITHUB_TOKEN_FOR_TESTS", "s3cret-token")
        location = storage.add_flow(local_flow())
        assert version_of(storage, location) == "v3"
        assert "s3cret" not in storage.model_dump_json() + storage.describe(location)


def test_github_storage_is_git_on_github() -> None:
    storage = GitHub(repo="acme/flows", path="etl.py", ref="v1.0")
    assert storage.clone_url() == "https://github.com/acme/flows.git"
    assert storage.ref() == "v1.0" and storage.pinned_commit() is None
    pinned = GitHub(repo="acme/flows", path="etl.py", ref="a" * 40)
    assert pinned.ref() is None and pinned.pinned_commit() == "a" * 40
    assert Git(repo="acme/flows", flow_path="x.py", use_ssh=True).clone_url() == \
        "git@github.com:acme/flows.git"


@pytest.mark.parametrize(("fields", "message"), [
    ({"repo": "a/b", "flow_path": "x.py", "branch_name": "m", "tag": "t"},
     "give at most one of branch_name, tag and commit"),
    ({"repo": "a/b", "flow_path": "/abs/x.py"}, "expected a path inside the repository"),
    ({"repo": "a/b", "flow_path": "x.py", "stored_as_script": False}, "scripts only"),
])
def test_bad_fields_are_refused(fields: dict[str, Any], message: str) -> None:
    from jupyter_flows.storage import storage_from_config

    with pytest.raises(StorageError, match=message):
        storage_from_config({"type": "git", **fields})


def test_a_repository_on_local_disk_is_refused_where_a_pod_cannot_read_it(
        repo: Repository) -> None:
    flow = local_flow()
    flow.storage = Git(repo=repo.url, flow_path="flows/etl.py")
    flow.run_config = KubernetesRun(image="x:1")
    with pytest.raises(StorageError, match=f"stored in the Git repository {repo.bare}, which a"
                       " KubernetesRun cannot read"):
        flow.register(client=Client("http://127.0.0.1:9"))


# ------------------------------------------------------------------ runs
@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from jupyter_flows.server.testing import running_server

    with running_server(tmp_path_factory.mktemp("backend") / "backend.db") as url:
        yield url


def run_to_end(client: Client, run_id: str) -> Any:
    return wait_for(lambda: (r := client.get_flow_run(run_id)).state in {
        "Success", "Failed", "Crashed"} and r, 120, "the run to end")


@pytest.mark.slow
def test_a_local_agent_runs_the_registered_commit_from_github_storage_over_http(
        repo: Repository, backend: str) -> None:
    from jupyter_flows.agents.local import LocalAgent

    client = Client(backend)
    flow = local_flow()
    with serving(github_layout(repo)) as base:
        flow.storage = GitHub(repo="acme/flows", path="flows/etl.py", ref="main",
                              base_url=base)
        flow.run_config = LocalRun(labels=["git-http"])
        record = flow.register(client=client)
        assert record.storage["location"] == f"{repo.commits['v2']}:flows/etl.py"
        repo.commit({"flows/etl.py": script("v5")}, "v5")  # after registration: not run
        run_id = client.create_flow_run(record.id).id
        with running_agent(LocalAgent(client, labels=["git-http"], poll_wait=0.5)):
            final = run_to_end(client, run_id)
    logs = [r.message for r in client.read_logs(run_id).items]
    assert final.state == "Success", (final.state_message, logs)
    assert "script version v2" in logs


@pytest.mark.slow
def test_a_docker_run_clones_the_script_inside_the_container(
        docker_engine: Any, flows_image: str, repo: Repository, http: str,
        backend: str) -> None:
    """dulwich in the image fetches over HTTP from 127.0.0.1 (host network): no git there."""
    from jupyter_flows.agents.docker import DockerAgent

    client = Client(backend)
    flow = local_flow()
    flow.storage = Git(repo=http, flow_path="flows/etl.py", branch_name="dev")
    flow.run_config = DockerRun(image=flows_image, labels=["git-docker"])
    run_id = client.create_flow_run(flow.register(client=client).id).id
    agent = DockerAgent(client, base_url=docker_engine.base_url, networks=["host"],
                        labels=["git-docker"], poll_wait=0.5)
    with running_agent(agent):
        final = run_to_end(client, run_id)
    logs = [r.message for r in client.read_logs(run_id).items]
    assert final.state == "Success", (final.state_message, logs)
    assert "script version v3" in logs
    no_git = docker_engine.client.containers.run(
        flows_image, ["sh", "-c", "command -v git || echo no git"], remove=True,
        network_mode="none")
    assert no_git == b"no git\n"
