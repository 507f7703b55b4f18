"""The jupyter_server extension: the proxy against real backends (up, keyed, down) and the
embedded backend + agent it starts when none is configured. Requests go through a real
Jupyter server app with pytest-jupyter's ``jp_fetch``."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("jupyter_server", reason="the labserver tests need jupyter-flows[notebook]")
pytest.importorskip("pytest_jupyter", reason="the labserver tests need pytest-jupyter[server]")

from pytest_jupyter.jupyter_server import *  # noqa: F403 (jp_fetch and its fixtures)
from tornado.httpclient import HTTPClientError

from jupyter_flows.client import Client
from jupyter_flows.server.testing import free_port, running_server

pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings(
        # jupyter_server's own start-up, not ours
        "ignore::DeprecationWarning:jupyter_server",
        "ignore::DeprecationWarning:jupyter_core",
        "ignore::DeprecationWarning:traitlets",
        "ignore::DeprecationWarning:tornado",
    ),
]

URL_ENV = "JUPYTER_FLOWS_BACKEND_URL"
KEY_ENV = "JUPYTER_FLOWS_API_KEY"
KEY = "sekrit-key-123"
REPO = Path(__file__).resolve().parents[1]
SPEC = {"name": "lab-test", "tasks": [], "edges": [], "parameters": [], "reference_tasks": []}


@pytest.fixture(scope="module")
def live_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("live") / "backend.db") as url:
        yield url


@pytest.fixture(scope="module")
def keyed_backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("keyed") / "backend.db", api_key=KEY) as url:
        yield url


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    # set then delete, so the values the extension exports for kernels are undone after
    for name in (URL_ENV, KEY_ENV):
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


@pytest.fixture
def flows_settings(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, Any]:
    """``c.JupyterFlows`` for the test; parametrize indirectly with a name."""
    kind = getattr(request, "param", "live")
    if kind == "live":
        return {"backend_url": request.getfixturevalue("live_backend")}
    if kind == "keyed":
        return {"backend_url": request.getfixturevalue("keyed_backend"), "api_key": KEY}
    if kind == "keyed-no-key":
        return {"backend_url": request.getfixturevalue("keyed_backend")}
    if kind == "down":
        return {"backend_url": f"http://127.0.0.1:{free_port()}", "request_timeout": 5.0}
    if kind == "env":
        os.environ[URL_ENV] = request.getfixturevalue("live_backend")
        return {}
    if kind == "embedded":
        return {"embedded_database": str(tmp_path / "embedded" / "backend.db")}
    raise ValueError(kind)


@pytest.fixture  # type: ignore[no-redef]  # replaces pytest-jupyter's
def jp_server_config(flows_settings: dict[str, Any]) -> dict[str, Any]:
    return {"ServerApp": {"jpserver_extensions": {"jupyter_flows.labserver": True}},
            "JupyterFlows": flows_settings}


Api = Callable[..., tuple[int, Any]]


@pytest.fixture
def api(jp_fetch: Any, jp_asyncio_loop: Any) -> Api:
    """``api("flows", method="POST", body={...})`` -> (status, JSON) through the proxy."""

    def call(path: str, method: str = "GET", body: Any = None, **params: Any) -> tuple[int, Any]:
        kwargs: dict[str, Any] = {"method": method, "raise_error": False}
        if body is not None:
            kwargs["body"] = json.dumps(body)
        elif method == "POST":
            kwargs["body"] = b""
        if params:
            kwargs["params"] = params
        try:
            response = jp_asyncio_loop.run_until_complete(
                jp_fetch("jupyter-flows", "api", *path.split("/"), **kwargs))
        except HTTPClientError as exc:  # some tornado versions raise despite raise_error
            assert exc.response is not None
            response = exc.response
        text = response.body.decode() if response.body else ""
        return response.code, json.loads(text) if text else None

    return call


def extension(serverapp: Any) -> Any:
    apps = serverapp.extension_manager.extension_apps["jupyter_flows.labserver"]
    return next(iter(apps))


# ---------------------------------------------------------------------- configured
@pytest.mark.parametrize("flows_settings", ["keyed"], indirect=True)
def test_config_hides_the_key_and_the_proxy_sends_it(api: Api, keyed_backend: str) -> None:
    status, config = api("config")
    assert status == 200
    assert config == {"backend_url": keyed_backend, "embedded": False, "source": "config",
                      "api_key_configured": True, "status": "external", "agent": None}
    assert KEY not in json.dumps(config)
    status, page = api("flows")
    assert status == 200 and page["total"] >= 0
    assert os.environ[URL_ENV] == keyed_backend and os.environ[KEY_ENV] == KEY  # for kernels


@pytest.mark.parametrize("flows_settings", ["keyed-no-key"], indirect=True)
def test_the_backends_own_errors_come_back_as_they_are(api: Api) -> None:
    status, body = api("flows")
    assert status == 401
    assert "this backend needs an API key" in body["detail"]


def test_flows_runs_states_and_logs_through_the_proxy(api: Api, live_backend: str) -> None:
    with Client(live_backend) as client:
        run_config = {"type": "local", "env": {"DB_PASSWORD": "hunter2"}}
        flow = client.register_flow("lab-test", SPEC, run_config=run_config)
        client.register_agent("lab-test-agent", labels=["somewhere-else"])
    status, page = api("flows", name="lab-test")
    assert status == 200
    assert [f["id"] for f in page["items"]] == [flow.id]

    status, run = api("flow_runs", method="POST", body={"flow_id": flow.id, "parameters": {}})
    assert status == 201 and run["state"] == "Scheduled"
    assert run["run_config"]["env"]["DB_PASSWORD"] != "hunter2"  # masked by the backend

    status, listed = api("flow_runs", flow_name="lab-test", state="Scheduled")
    assert status == 200 and run["id"] in [r["id"] for r in listed["items"]]

    status, one = api(f"flow_runs/{run['id']}")
    assert status == 200 and one["agent_match"]["matched"] is True  # the run has no labels

    status, states = api(f"flow_runs/{run['id']}/states")
    assert [s["state"] for s in states] == ["Scheduled"]
    status, logs = api(f"flow_runs/{run['id']}/logs", after=0)
    assert status == 200 and logs == {"items": [], "next_after": 0}
    status, tasks = api(f"flow_runs/{run['id']}/task_runs")
    assert status == 200 and tasks == []
    status, agents = api("agents")
    assert "lab-test-agent" in [a["name"] for a in agents]

    status, cancelled = api(f"flow_runs/{run['id']}/state", method="POST",
                            body={"state": "Cancelled", "message": "from the test"})
    assert status == 200 and cancelled["state"] == "Cancelled"
    status, refused = api(f"flow_runs/{run['id']}/state", method="POST",
                          body={"state": "Cancelled"})
    assert status == 409 and "Cancelled is a finished state" in refused["detail"]


def _sse_events(text: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(id, event, data) of each event in a Server-Sent Events body (comments skipped)."""
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        fields: dict[str, str] = {}
        for line in block.split("\n"):
            name, sep, value = line.partition(":")
            if sep and name:
                fields[name] = value.removeprefix(" ")
        if "event" in fields:
            events.append((fields.get("id", ""), fields["event"], json.loads(fields["data"])))
    return events


def test_a_runs_events_stream_through_the_proxy_as_they_happen(
        jp_fetch: Any, jp_asyncio_loop: Any, live_backend: str) -> None:
    with Client(live_backend) as client:
        flow = client.register_flow("lab-stream", SPEC)
        run = client.create_flow_run(flow.id)
    received: list[bytes] = []

    def on_chunk(chunk: bytes) -> None:
        # the run is cancelled only once its first event came through: a proxy that kept
        # the stream until it ended would never get here, and the fetch would time out
        if not received:
            with Client(live_backend) as writer:
                writer.set_flow_run_state(run.id, "Cancelled", message="streamed")
        received.append(chunk)

    response = jp_asyncio_loop.run_until_complete(jp_fetch(
        "jupyter-flows", "api", "flow_runs", run.id, "events",
        headers={"Accept": "text/event-stream"}, streaming_callback=on_chunk,
        request_timeout=60))
    assert response.code == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    events = _sse_events(b"".join(received).decode())
    assert [(kind, data.get("state")) for _, kind, data in events] == [
        ("flow_run_state", "Scheduled"), ("flow_run_state", "Cancelled"), ("end", "Cancelled")]
    assert len(received) >= 2  # the first event came on its own, before the rest existed

    resumed: list[bytes] = []
    jp_asyncio_loop.run_until_complete(jp_fetch(
        "jupyter-flows", "api", "flow_runs", run.id, "events",
        headers={"Accept": "text/event-stream", "Last-Event-ID": events[0][0]},
        streaming_callback=resumed.append, request_timeout=60))
    again = _sse_events(b"".join(resumed).decode())
    assert [kind for _, kind, _ in again] == ["flow_run_state", "end"]  # from after seq 1


def test_the_change_feed_streams_through_the_proxy(
        jp_fetch: Any, jp_asyncio_loop: Any, live_backend: str) -> None:
    from tornado.httpclient import HTTPClientError as Cut

    received: list[bytes] = []

    def on_chunk(chunk: bytes) -> None:
        received.append(chunk)
        kinds = [kind for _, kind, _ in _sse_events(b"".join(received).decode())]
        if kinds == ["ready"]:  # the feed is live: make a change for it to carry
            with Client(live_backend) as client:
                client.register_flow("lab-feed", SPEC)
        if "flow" in kinds:
            raise RuntimeError("seen")  # closes the connection: the test has what it wants

    with pytest.raises((RuntimeError, Cut)):
        jp_asyncio_loop.run_until_complete(jp_fetch(
            "jupyter-flows", "api", "events", headers={"Accept": "text/event-stream"},
            streaming_callback=on_chunk, request_timeout=60))
    events = _sse_events(b"".join(received).decode())
    flows = [data for _, kind, data in events if kind == "flow"]
    assert flows and flows[0]["flow"]["name"] == "lab-feed"


@pytest.mark.parametrize("flows_settings", ["down"], indirect=True)
def test_a_stream_from_a_backend_that_is_down_is_a_502(jp_fetch: Any, jp_asyncio_loop: Any
                                                        ) -> None:
    response = jp_asyncio_loop.run_until_complete(jp_fetch(
        "jupyter-flows", "api", "events", headers={"Accept": "text/event-stream"},
        raise_error=False, request_timeout=60))
    assert response.code == 502
    assert "is not reachable" in json.loads(response.body)["message"]


def test_unknown_runs_and_bad_paths(api: Api) -> None:
    status, body = api("flow_runs/nope")
    assert status == 404 and "nope" in body["detail"]
    status, body = api("flow_runs/x;y")
    assert status == 400 and "not a backend API path" in body["message"]


@pytest.mark.parametrize("flows_settings", ["down"], indirect=True)
def test_a_backend_that_is_down_gives_a_clear_502(api: Api, flows_settings: dict[str, Any]
                                                  ) -> None:
    url = flows_settings["backend_url"]
    for method, path in (("GET", "flows"), ("POST", "flow_runs")):
        status, body = api(path, method=method, body={} if method == "POST" else None)
        assert status == 502
        assert body["message"].startswith(f"backend at {url} is not reachable: ")
        assert "refused" in body["message"].lower()
        assert body["backend_url"] == url
    status, config = api("config")  # still answers, so the panel can say where it looked
    assert status == 200 and config["backend_url"] == url


@pytest.mark.parametrize("flows_settings", ["env"], indirect=True)
def test_the_backend_url_may_come_from_the_environment(api: Api, live_backend: str) -> None:
    config = api("config")[1]
    assert config["backend_url"] == live_backend and config["source"] == URL_ENV
    assert api("health")[0] == 200


def test_the_config_file_enables_the_extension() -> None:
    config = REPO / "labextension/jupyter-config/jupyter_server_config.d/jupyter_flows.json"
    enabled = json.loads(config.read_text())["ServerApp"]["jpserver_extensions"]
    assert enabled == {"jupyter_flows.labserver": True}
    from jupyter_flows.labserver import _jupyter_server_extension_points

    assert _jupyter_server_extension_points()[0]["module"] == "jupyter_flows.labserver"


# ------------------------------------------------------------------------ embedded
@pytest.mark.parametrize("flows_settings", ["embedded"], indirect=True)
def test_the_embedded_backend_and_agent_start_and_stop_with_the_server(
        api: Api, jp_serverapp: Any, jp_asyncio_loop: Any, tmp_path: Path) -> None:
    app = extension(jp_serverapp)
    backend = app.backend
    url = backend.url
    assert url.startswith("http://127.0.0.1:") and os.environ[URL_ENV] == url
    # the first request waits for the backend (tests do not run the server's start hook)
    status, health = api("health")
    assert status == 200 and health["status"] == "ok", health
    status, config = api("config")
    assert config["embedded"] is True and config["status"] == "ready"
    assert config["database"] == f"sqlite:///{tmp_path / 'embedded' / 'backend.db'}"
    assert config["agent"]["running"] is True

    deadline = time.monotonic() + 30
    agents: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        agents = [a for a in api("agents")[1] if a["online"]]
        if agents:
            break
        time.sleep(0.2)
    assert [a["name"] for a in agents] == [config["agent"]["name"]]

    server, agent = backend.server, backend.agent
    jp_asyncio_loop.run_until_complete(app.stop_extension())
    assert server.poll() is not None and agent.poll() is not None
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", backend.port)) != 0
    assert api("config")[1]["status"] == "stopped"


def test_an_embedded_backend_that_cannot_start_is_reported(tmp_path: Path) -> None:
    """A database URL the backend refuses: the proxy's 502 says the backend exited."""
    import asyncio

    from jupyter_flows.labserver.backend import Unreachable
    from jupyter_flows.labserver.embedded import EmbeddedBackend

    async def boot() -> str:
        backend = EmbeddedBackend("nosuchdb://x", start_agent=False, startup_timeout=20)
        try:
            await backend.ready()
        except Unreachable as exc:
            return str(exc)
        finally:
            await backend.stop()
        return "started"

    message = asyncio.run(boot())
    assert "is not reachable: the embedded backend exited with code" in message


def test_the_embedded_children_die_with_their_parent(tmp_path: Path) -> None:
    """PR_SET_PDEATHSIG: a Jupyter server killed with SIGKILL leaves no backend behind."""
    if not sys.platform.startswith("linux"):
        pytest.skip("PR_SET_PDEATHSIG is Linux-only")
    script = (
        "import asyncio, sys\n"
        "from jupyter_flows.labserver.embedded import EmbeddedBackend\n"
        "async def main():\n"
        f"    b = EmbeddedBackend({str(tmp_path / 'b.db')!r}, start_agent=False)\n"
        "    await b.ready()\n"
        "    print(b.server.pid, flush=True)\n"
        "    await asyncio.sleep(60)\n"
        "asyncio.run(main())\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
    finally:
        parent.kill()
        parent.wait()
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and _alive(child):
        time.sleep(0.1)
    assert not _alive(child)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False
