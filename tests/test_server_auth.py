"""The API key, safe binding, health and OpenAPI, and settings from the environment."""

from __future__ import annotations

import subprocess
import sys

import pytest

from jupyter_flows.errors import ServerConfigError
from jupyter_flows.server.app import check_bind
from jupyter_flows.server.settings import Settings
from jupyter_flows.server.testing import in_process


@pytest.mark.anyio
async def test_api_key_is_required_on_api_but_not_on_health(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path}/b.db", api_key="s3cret")
    async with in_process(settings) as http:
        assert (await http.get("/api/flows")).status_code == 401
        wrong = await http.get("/api/flows", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401 and "Bearer" in wrong.json()["detail"]
        basic = await http.get("/api/flows", headers={"Authorization": "Basic s3cret"})
        assert basic.status_code == 401
        for method, path in [("POST", "/api/agents"), ("POST", "/api/agents/x/claim"),
                             ("GET", "/api/flow_runs/x/logs")]:
            assert (await http.request(method, path)).status_code == 401
        ok = await http.get("/api/flows", headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200
        health = await http.get("/api/health")
        assert health.status_code == 200
        assert health.json() == {"status": "ok", "version": "0.1.0", "database": "sqlite"}


@pytest.mark.anyio
async def test_openapi_lists_every_resource(tmp_path):
    async with in_process(Settings(database_url=f"sqlite:///{tmp_path}/b.db")) as http:
        schema = (await http.get("/openapi.json")).json()
        assert (await http.get("/docs")).status_code == 200
    paths = set(schema["paths"])
    assert {"/api/flows", "/api/flows/{flow_id}", "/api/flow_runs",
            "/api/flow_runs/{flow_run_id}", "/api/flow_runs/{flow_run_id}/state",
            "/api/flow_runs/{flow_run_id}/states", "/api/flow_runs/{flow_run_id}/task_runs",
            "/api/flow_runs/{flow_run_id}/logs", "/api/flow_runs/{flow_run_id}/heartbeat",
            "/api/flow_runs/{flow_run_id}/infrastructure_failure", "/api/agents",
            "/api/agents/{agent_id}/heartbeat", "/api/agents/{agent_id}/claim",
            "/api/health"} <= paths


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_binds_need_no_key(host):
    check_bind(Settings(host=host))


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "::", "example.org"])
def test_public_binds_without_a_key_are_refused(host):
    with pytest.raises(ServerConfigError, match=f"refusing to listen on {host}:4200 without an "
                                                f"API key"):
        check_bind(Settings(host=host))
    check_bind(Settings(host=host, api_key="k"))


def test_serve_refuses_a_public_bind_from_the_command_line(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "jupyter_flows.server", "--host", "0.0.0.0",
         "--database-url", f"sqlite:///{tmp_path}/b.db"],
        capture_output=True, text=True, timeout=60,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})
    assert result.returncode == 2
    assert "refusing to listen on 0.0.0.0:4200 without an API key" in result.stderr
    assert "JUPYTER_FLOWS_API_KEY" in result.stderr


def test_settings_from_env():
    settings = Settings.from_env({"JUPYTER_FLOWS_DATABASE_URL": "postgresql+psycopg://u@h/db",
                                  "JUPYTER_FLOWS_LEASE_TIMEOUT": "12.5",
                                  "JUPYTER_FLOWS_API_KEY": "k"}, port=9000)
    assert settings.database_kind == "postgresql" and settings.lease_timeout == 12.5
    assert (settings.api_key, settings.port, settings.host) == ("k", 9000, "127.0.0.1")
    default = Settings.from_env({})
    assert default.database_url == "sqlite:///~/.jupyter-flows/backend.db"
    assert default.database_kind == "sqlite"


def test_default_sqlite_path_expands_home(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    url = Settings().resolved_database_url()
    assert url == f"sqlite:///{tmp_path}/.jupyter-flows/backend.db"
    assert (tmp_path / ".jupyter-flows").is_dir()
