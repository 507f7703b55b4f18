"""Flow registration through the ASGI app: versions by spec hash, lists, masking."""

from __future__ import annotations

import pytest
from wire import spec_json

from jupyter_flows.api import FlowSpec
from jupyter_flows.server.settings import Settings
from jupyter_flows.server.testing import in_process

pytestmark = pytest.mark.anyio

SPEC = spec_json("etl", ("a-1", "b-1"), (("a-1", "b-1"),))


@pytest.fixture
async def http(tmp_path):
    async with in_process(Settings(database_url=f"sqlite:///{tmp_path}/backend.db")) as client:
        yield client


async def register(http, **fields):
    body = {"name": "etl", "spec": SPEC, **fields}
    response = await http.post("/api/flows", json=body)
    assert response.status_code in (200, 201), response.text
    return response


async def test_same_spec_returns_the_existing_version(http):
    first = await register(http)
    assert first.status_code == 201
    assert first.json()["version"] == 1 and first.json()["is_new"] is True
    # key order does not matter: the hash is of the canonical JSON
    again = await register(http, spec=dict(reversed(SPEC.items())))
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["is_new"] is False


async def test_changed_spec_makes_a_new_version_per_project(http):
    v1 = (await register(http)).json()
    v2 = (await register(http, spec={**SPEC, "parameters": ["x"]})).json()
    other = (await register(http, project="other")).json()
    assert (v1["version"], v2["version"], other["version"]) == (1, 2, 1)
    assert v1["spec_hash"] != v2["spec_hash"]
    assert v1["spec_hash"] == other["spec_hash"]


async def test_reregistering_updates_deployment_fields_of_that_version(http):
    first = (await register(http, labels=["a"])).json()
    again = (await register(http, labels=["b"], max_retries=2)).json()
    assert again["id"] == first["id"]
    assert (again["labels"], again["max_retries"]) == (["b"], 2)


async def test_list_filters_and_pagination(http):
    for i in range(5):
        await register(http, spec=spec_json("etl", location=str(i)))
    await register(http, name="other")
    await register(http, name="other", project="p2")
    page = (await http.get("/api/flows", params={"name": "etl", "limit": 2})).json()
    assert page["total"] == 5 and len(page["items"]) == 2
    assert [f["version"] for f in page["items"]] == [5, 4]  # newest first
    rest = (await http.get("/api/flows", params={"name": "etl", "limit": 2, "offset": 4})).json()
    assert [f["version"] for f in rest["items"]] == [1]
    p2 = (await http.get("/api/flows", params={"project": "p2"})).json()
    assert p2["total"] == 1 and p2["items"][0]["name"] == "other"
    everything = (await http.get("/api/flows")).json()
    assert everything["total"] == 7


async def test_get_by_id_and_missing(http):
    flow = (await register(http)).json()
    got = await http.get(f"/api/flows/{flow['id']}")
    assert got.status_code == 200
    assert got.json()["spec"] == FlowSpec.model_validate(SPEC).model_dump(mode="json")
    missing = await http.get("/api/flows/nope")
    assert missing.status_code == 404
    assert "nope" in missing.json()["detail"]


async def test_secrets_in_run_config_env_are_masked(http):
    container_env = [{"name": "API_KEY", "value": "k"}, {"name": "MODE", "value": "fast"}]
    run_config = {"type": "kubernetes",
                  "env": {"AWS_SECRET_ACCESS_KEY": "s3cr3t", "db_password": "pw",
                          "GITHUB_TOKEN": "t", "HOME": "/root"},
                  "job_template": {"spec": {"template": {"spec": {"containers": [
                      {"name": "flow", "env": container_env}]}}}}}
    flow = (await register(http, run_config=run_config)).json()
    for body in (flow, (await http.get(f"/api/flows/{flow['id']}")).json()):
        env = body["run_config"]["env"]
        assert env == {"AWS_SECRET_ACCESS_KEY": "***", "db_password": "***",
                       "GITHUB_TOKEN": "***", "HOME": "/root"}
        container = body["run_config"]["job_template"]["spec"]["template"]["spec"][
            "containers"][0]
        assert container["env"] == [{"name": "API_KEY", "value": "***"},
                                    {"name": "MODE", "value": "fast"}]
    assert "s3cr3t" not in (await http.get("/api/flows")).text


async def test_invalid_payload_is_422(http):
    response = await http.post("/api/flows", json={"name": "x"})
    assert response.status_code == 422
    response = await http.post("/api/flows", json={"name": "x", "spec": spec_json("x"),
                                                   "max_retries": -1})
    assert response.status_code == 422
