"""Archiving and deleting flows (issue 11, item 1: "there is no way to delete a flow"):
through the ASGI app, then the client, the CLI and the ``%flow delete`` magic against a
real uvicorn backend."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from IPython.core.interactiveshell import InteractiveShell
from test_magics_support import fresh_shell_fixture, shell_fixture  # noqa: F401
from typer.testing import CliRunner
from wire import spec_json

from jupyter_flows.cli import app
from jupyter_flows.client.client import Client
from jupyter_flows.server.settings import Settings
from jupyter_flows.server.testing import in_process, running_server

SPEC = spec_json("etl", ("a-1",))


@pytest.fixture
async def http(tmp_path):
    async with in_process(Settings(database_url=f"sqlite:///{tmp_path}/backend.db")) as client:
        yield client


async def flow_with_runs(http, n: int = 2, name: str = "etl") -> tuple[dict, list[str]]:
    flow = (await http.post("/api/flows", json={"name": name,
                                                "spec": spec_json(name, ("a-1",))})).json()
    run_ids = []
    for _ in range(n):
        run = (await http.post("/api/flow_runs", json={"flow_id": flow["id"]})).json()
        await http.post(f"/api/flow_runs/{run['id']}/logs", json=[{"message": "hello"}])
        run_ids.append(run["id"])
    return flow, run_ids


@pytest.mark.anyio
async def test_archiving_hides_the_flow_keeps_its_runs_and_refuses_new_ones(http):
    flow, run_ids = await flow_with_runs(http)
    response = await http.delete(f"/api/flows/{flow['id']}")
    assert response.status_code == 200
    assert response.json()["deleted"] is False and response.json()["archived"]
    assert (await http.get("/api/flows")).json()["total"] == 0
    listed = (await http.get("/api/flows?archived=true")).json()["items"]
    assert [f["id"] for f in listed] == [flow["id"]] and listed[0]["archived"]
    assert (await http.get("/api/flow_runs")).json()["total"] == 2
    logs = (await http.get(f"/api/flow_runs/{run_ids[0]}/logs")).json()["items"]
    assert [item["message"] for item in logs] == ["hello"]
    refused = await http.post("/api/flow_runs", json={"flow_id": flow["id"]})
    assert refused.status_code == 409
    assert "archived" in refused.json()["detail"]
    by_name = await http.post("/api/flow_runs", json={"flow_name": "etl"})
    assert by_name.status_code == 404
    # registering the same spec again brings it back
    again = await http.post("/api/flows", json={"name": "etl", "spec": SPEC})
    assert again.status_code == 200 and again.json()["archived"] is None
    assert (await http.get("/api/flows")).json()["total"] == 1


@pytest.mark.anyio
async def test_deleting_with_runs_removes_the_flow_its_runs_and_their_logs(http):
    flow, run_ids = await flow_with_runs(http)
    other, other_runs = await flow_with_runs(http, 1, name="other")
    response = await http.delete(f"/api/flows/{flow['id']}?runs=delete")
    assert response.status_code == 200
    assert response.json() == {"id": flow["id"], "archived": None, "deleted": True,
                               "runs_deleted": 2}
    assert (await http.get(f"/api/flows/{flow['id']}")).status_code == 404
    assert (await http.get(f"/api/flow_runs/{run_ids[0]}/logs")).status_code == 404
    runs = (await http.get("/api/flow_runs")).json()["items"]
    assert [r["id"] for r in runs] == other_runs
    assert [f["id"] for f in (await http.get("/api/flows?archived=true")).json()["items"]] == [
        other["id"]]
    assert (await http.delete(f"/api/flows/{flow['id']}")).status_code == 404


@pytest.mark.anyio
async def test_deleting_a_flow_with_an_active_run_is_refused(http):
    flow, run_ids = await flow_with_runs(http, 1)
    agent = (await http.post("/api/agents", json={"name": "a"})).json()
    claim = await http.post(f"/api/agents/{agent['id']}/claim")
    assert claim.status_code == 200
    response = await http.delete(f"/api/flows/{flow['id']}?runs=delete")
    assert response.status_code == 409
    assert run_ids[0] in response.json()["detail"]
    assert "runs=keep" in response.json()["detail"]
    assert (await http.get(f"/api/flows/{flow['id']}")).status_code == 200


@pytest.mark.anyio
async def test_a_bad_runs_choice_is_422(http):
    flow, _ = await flow_with_runs(http, 0)
    response = await http.delete(f"/api/flows/{flow['id']}?runs=maybe")
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "runs"]


# --- client, CLI and magic through a real uvicorn ----------------------------------------
@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("removal") / "backend.db",
                        startup_timeout=120) as url:
        yield url


def register(client: Client, name: str, versions: int = 1) -> list[str]:
    return [client.register_flow(name, spec_json(name, (f"a-{v}",))).id
            for v in range(1, versions + 1)]


def test_cli_archives_every_version_by_name_then_deletes_them_with_runs(
        url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTER_FLOWS_BACKEND_URL", url)
    client = Client(url)
    ids = register(client, "cli-flow", 2)
    client.create_flow_run(ids[0])
    runner = CliRunner()
    result = runner.invoke(app, ["delete", "flow", "cli-flow"])
    assert result.exit_code == 0, result.output
    assert result.output.count("archived") == 2
    assert client.list_flows("cli-flow").total == 0
    result = runner.invoke(app, ["delete", "flow", "cli-flow", "--with-runs"])
    assert result.exit_code == 0, result.output
    assert "deleted with its 1 run(s)" in result.output
    assert client.list_flows("cli-flow", archived=True).total == 0
    result = runner.invoke(app, ["delete", "flow", "cli-flow"])
    assert result.exit_code == 1
    assert "no flow named 'cli-flow'" in result.output
    assert "Traceback" not in result.output


def test_magic_deletes_one_version_by_id(url: str, shell: InteractiveShell,
                                         monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str],
                                         tmp_path: Path) -> None:
    monkeypatch.setenv("JUPYTER_FLOWS_BACKEND_URL", url)
    client = Client(url)
    first, second = register(client, "magic-flow", 2)
    shell.run_line_magic("load_ext", "jupyter_flows.notebook")
    shell.run_line_magic("flow", f"delete {first} --with-runs")
    assert f"flow {first} deleted with its 0 run(s)" in capsys.readouterr().out
    assert [f.id for f in client.list_flows("magic-flow", archived=True).items] == [second]
