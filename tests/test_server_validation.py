"""Bad configs are refused at the door: a 422 that names the field and the rule, and
nothing is stored."""

from __future__ import annotations

import pytest
from wire import spec_json

from jupyter_flows.server.settings import Settings
from jupyter_flows.server.testing import in_process

pytestmark = pytest.mark.anyio

SPEC = spec_json("etl", ("a-1",))


@pytest.fixture
async def http(tmp_path):
    async with in_process(Settings(database_url=f"sqlite:///{tmp_path}/backend.db")) as client:
        yield client


BAD_FLOW_CONFIGS = [
    pytest.param("run_config", {"type": "kubernetes", "memory_request": "4 gigs"},
                 "KubernetesRun.memory_request: expected a Kubernetes quantity like '4Gi',"
                 " got '4 gigs'", id="bad-quantity"),
    pytest.param("run_config", {"type": "nomad"}, "unknown run config type 'nomad'",
                 id="unknown-run-config-type"),
    pytest.param("run_config", {"type": "local", "working_directory": "/x"},
                 "LocalRun.working_directory", id="unknown-run-config-field"),
    pytest.param("executor", {"type": "dask", "adress": "tcp://x:8786"},
                 "DaskExecutor.adress: unknown field; did you mean 'address'?",
                 id="executor-typo"),
    pytest.param("executor", {"type": "spark"}, "unknown executor type 'spark'",
                 id="unknown-executor"),
]


@pytest.mark.parametrize(("field", "config", "message"), BAD_FLOW_CONFIGS)
async def test_flow_registration_refuses_a_bad_config(http, field, config, message):
    response = await http.post("/api/flows", json={"name": "etl", "spec": SPEC, field: config})
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["loc"] == ["body", field]
    assert message in error["msg"]
    listed = await http.get("/api/flows")
    assert listed.json()["total"] == 0


@pytest.mark.parametrize(("field", "config", "message"), BAD_FLOW_CONFIGS)
async def test_run_creation_refuses_a_bad_override(http, field, config, message):
    flow = (await http.post("/api/flows", json={"name": "etl", "spec": SPEC})).json()
    response = await http.post("/api/flow_runs", json={"flow_id": flow["id"], field: config})
    assert response.status_code == 422
    assert message in response.json()["detail"][0]["msg"]
    runs = await http.get("/api/flow_runs")
    assert runs.json()["total"] == 0


async def test_malformed_json_is_a_422_not_a_500(http):
    response = await http.post("/api/flows", content=b'{"name": "etl", "run_config": {',
                               headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["type"] == "json_invalid"


async def test_a_good_config_is_stored_as_given(http):
    config = {"type": "kubernetes", "memory_request": "4Gi", "cpu_request": "500m"}
    response = await http.post("/api/flows", json={"name": "etl", "spec": SPEC,
                                                   "run_config": config})
    assert response.status_code == 201
    assert response.json()["run_config"] == config
