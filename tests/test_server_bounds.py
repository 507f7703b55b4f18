"""No input breaks the API (issue 11, items 1 to 3): every bound is a 422 (or 413) naming
the field and the bound, nothing refused is stored, and the worst inputs that *are*
accepted can be listed back. Run on SQLite and on PostgreSQL (NUL, surrogates)."""

from __future__ import annotations

import json

import pytest
from wire import spec_json

from jupyter_flows.api.bounds import (
    CURSOR_MAX,
    INT32_MAX,
    INT64_MAX,
    JSON_DEPTH_MAX,
    NAME_MAX,
    SLUG_MAX,
)
from jupyter_flows.server.settings import Settings
from jupyter_flows.server.testing import in_process

pytestmark = pytest.mark.anyio

SPEC = spec_json("etl", ("a-1",))


@pytest.fixture(params=["sqlite", "postgresql"])
async def http(request, tmp_path):
    url = (f"sqlite:///{tmp_path}/backend.db" if request.param == "sqlite"
           else request.getfixturevalue("pg_url"))
    async with in_process(Settings(database_url=url, max_body_bytes=2_000_000)) as client:
        yield client


def nested(depth: int) -> object:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return value


async def post_raw(http, path: str, body: object):
    # json.dumps keeps "\ud800" as an escape, as any client sending it would
    return await http.post(path, content=json.dumps(body).encode(),
                           headers={"content-type": "application/json"})


async def new_flow(http, **fields) -> dict:
    response = await http.post("/api/flows", json={"name": "etl", "spec": SPEC, **fields})
    assert response.status_code == 201, response.text
    return response.json()


async def new_run(http) -> dict:
    flow = await new_flow(http)
    response = await http.post("/api/flow_runs", json={"flow_id": flow["id"]})
    assert response.status_code == 201, response.text
    return response.json()


def message_of(response) -> str:
    detail = response.json()["detail"]
    return detail if isinstance(detail, str) else " ".join(
        f"{'.'.join(map(str, d['loc']))}: {d['msg']}" for d in detail)


# --- item 1: a deep spec is refused, not stored; GET /api/flows keeps working ----------------
async def test_a_260_level_deep_spec_is_refused_and_not_stored(http):
    spec = spec_json("deep", (), params={"p": False})
    spec["tasks"][0]["parameter"]["default"] = nested(260)
    response = await post_raw(http, "/api/flows", {"name": "deep", "spec": spec})
    assert response.status_code == 422
    assert "nested more than 64 levels deep" in message_of(response)
    listed = await http.get("/api/flows")
    assert listed.status_code == 200
    assert listed.json()["total"] == 0


async def test_depth_within_a_field_is_bounded_by_the_models(tmp_path):
    settings = Settings(database_url=f"sqlite:///{tmp_path}/b.db", max_json_depth=200)
    async with in_process(settings) as http:  # a body limit above the models' own
        response = await http.post("/api/flows", json={"name": "etl", "spec": SPEC,
                                                       "storage": {"x": nested(JSON_DEPTH_MAX)}})
        assert response.status_code == 422
        assert "storage.x[0][0]" in message_of(response)
        assert "... is nested more than 64 levels deep" in message_of(response)
        assert (await http.get("/api/flows")).json()["total"] == 0


async def test_a_body_past_the_size_limit_is_413(http):
    response = await http.post("/api/flows", json={"name": "etl", "spec": SPEC,
                                                   "storage": {"x": "a" * 2_100_000}})
    assert response.status_code == 413
    assert "max_body_bytes" in response.json()["detail"]


async def test_nan_is_not_json(http):
    response = await http.post("/api/flows", content=b'{"name": "etl", "spec": {"name": "x"},'
                                                     b' "storage": {"x": NaN}}',
                               headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert "NaN is not JSON" in message_of(response)


# --- item 2: unbounded integers -------------------------------------------------------------
BIG = [10**20, 2**64, 10**30, -(2**70)]


@pytest.mark.parametrize("path", ["/api/flows?offset={n}", "/api/flow_runs?offset={n}"])
@pytest.mark.parametrize("n", [10**20, 2**63])
async def test_offsets_past_64_bits_are_422(http, path, n):
    response = await http.get(path.format(n=n))
    assert response.status_code == 422
    assert "offset" in message_of(response)
    assert str(INT64_MAX) in message_of(response)


async def test_a_run_filter_of_too_many_labels_is_422(http):
    query = "&".join(["labels=x"] * 101)
    response = await http.get(f"/api/flow_runs?{query}")
    assert response.status_code == 422
    assert "labels" in message_of(response) and "100" in message_of(response)


async def test_the_largest_offset_is_an_empty_page(http):
    await new_flow(http)
    response = await http.get(f"/api/flows?offset={INT64_MAX}")
    assert response.status_code == 200
    assert response.json()["items"] == []


async def test_a_log_cursor_past_64_bits_is_422(http):
    run = await new_run(http)
    response = await http.get(f"/api/flow_runs/{run['id']}/logs?after={10**20}")
    assert response.status_code == 422
    assert "after" in message_of(response)
    ok = await http.get(f"/api/flow_runs/{run['id']}/logs?after={CURSOR_MAX}")
    assert ok.status_code == 200
    events = await http.get(f"/api/flow_runs/{run['id']}/events?after={10**20}")
    assert events.status_code == 422
    for header in ["9" * 30, "\xb2".encode("latin-1"), "12345678901234567890"]:
        events = await http.get(f"/api/flow_runs/{run['id']}/events",
                                headers={"last-event-id": header})
        assert events.status_code == 200, header


@pytest.mark.parametrize("n", BIG)
async def test_map_index_out_of_range_is_422(http, n):
    run = await new_run(http)
    response = await http.post(f"/api/flow_runs/{run['id']}/logs",
                               json=[{"message": "m", "map_index": n}])
    assert response.status_code == 422
    assert "map_index" in message_of(response)
    response = await http.post(f"/api/flow_runs/{run['id']}/task_runs",
                               json={"task_runs": [{"task_slug": "a-1", "state": "Running",
                                                    "map_index": n}]})
    assert response.status_code == 422
    assert "map_index" in message_of(response)


@pytest.mark.parametrize("n", BIG)
async def test_max_retries_and_flow_version_out_of_range_are_422(http, n):
    flow = await new_flow(http)
    for body, field in [({"flow_id": flow["id"], "max_retries": n}, "max_retries"),
                        ({"flow_name": "etl", "flow_version": n}, "flow_version")]:
        response = await http.post("/api/flow_runs", json=body)
        assert response.status_code == 422, response.text
        assert field in message_of(response)
    response = await http.post("/api/flows", json={"name": "etl", "spec": SPEC,
                                                   "max_retries": n})
    assert response.status_code == 422
    assert (await http.get("/api/flow_runs")).json()["total"] == 0


# --- item 3: text and time -------------------------------------------------------------------
@pytest.mark.parametrize("bad", ["\ud800", "a\x00b"], ids=["surrogate", "nul"])
async def test_unstorable_text_in_names_is_422_and_not_stored(http, bad):
    response = await post_raw(http, "/api/flows", {"name": f"etl{bad}", "spec": SPEC})
    assert response.status_code == 422
    assert "name" in message_of(response)
    response = await post_raw(http, "/api/flows", {"name": "etl",
                                                   "spec": spec_json(f"x{bad}", ("a-1",))})
    assert response.status_code == 422
    assert "spec.name" in message_of(response)
    assert (await http.get("/api/flows")).json()["total"] == 0


@pytest.mark.parametrize("bad", ["\ud800", "a\x00b"], ids=["surrogate", "nul"])
async def test_unstorable_text_in_parameters_is_422(http, bad):
    flow = await new_flow(http)
    response = await post_raw(http, "/api/flow_runs",
                              {"flow_id": flow["id"], "parameters": {"p": [bad]}})
    assert response.status_code == 422
    assert "parameters.p[0]" in message_of(response)


async def test_a_nul_in_a_query_or_path_is_422(http):
    for path in ["/api/flows?name=a%00b", "/api/flows/a%00b", "/api/flow_runs/ab%00cd"]:
        response = await http.get(path)
        assert response.status_code == 422, path
        assert "NUL" in response.json()["detail"]


async def test_log_text_that_cannot_be_stored_is_escaped_not_refused(http):
    run = await new_run(http)
    response = await post_raw(http, f"/api/flow_runs/{run['id']}/logs",
                              [{"message": "lone \ud800"}, {"message": "nul \x00 byte"},
                               {"message": "caf\udce9.txt"}, {"message": "plain"}])
    assert response.status_code == 200, response.text
    assert response.json()["count"] == 4
    logs = (await http.get(f"/api/flow_runs/{run['id']}/logs")).json()["items"]
    assert [item["message"] for item in logs] == [
        "lone \\ud800", "nul \\x00 byte", "caf\\udce9.txt", "plain"]


async def test_a_log_timestamp_of_year_1_at_plus_14_is_kept(http):
    run = await new_run(http)
    response = await http.post(f"/api/flow_runs/{run['id']}/logs",
                               json=[{"message": "early",
                                      "timestamp": "0001-01-01T00:00:00+14:00"},
                                     {"message": "late",
                                      "timestamp": "9999-12-31T23:59:59-14:00"}])
    assert response.status_code == 200, response.text
    logs = (await http.get(f"/api/flow_runs/{run['id']}/logs")).json()["items"]
    assert [item["timestamp"][:4] for item in logs] == ["0001", "9999"]


async def test_a_state_timestamp_utc_cannot_hold_is_422(http):
    run = await new_run(http)
    response = await http.post(f"/api/flow_runs/{run['id']}/task_runs",
                               json={"task_runs": [{"task_slug": "a-1", "state": "Running",
                                                    "timestamp": "0001-01-01T00:00:00+14:00"}]})
    assert response.status_code == 422
    assert "timestamp" in message_of(response)
    assert "outside years 1 to 9999" in message_of(response)


@pytest.mark.parametrize(("field", "length"), [("name", NAME_MAX), ("project", NAME_MAX)])
async def test_strings_longer_than_their_column_are_422(http, field, length):
    response = await http.post("/api/flows", json={"name": "etl", "spec": SPEC,
                                                   field: "x" * (length + 1)})
    assert response.status_code == 422
    assert field in message_of(response)
    assert str(length) in message_of(response)


# --- a stored row can never make a list fail -------------------------------------------------
async def test_the_worst_accepted_inputs_can_be_listed(http):
    deep_default = nested(JSON_DEPTH_MAX - 8)  # as deep as the body limit lets it be
    long_slug = "s" * SLUG_MAX
    spec = spec_json("n" * NAME_MAX, (), params={"p": False})
    spec["tasks"][0]["parameter"]["default"] = deep_default
    spec["tasks"].append({"slug": long_slug, "name": "é" * SLUG_MAX, "type": "T" * NAME_MAX,
                          "tags": ["t" * NAME_MAX], "max_retries": 10_000,
                          "retry_delay": 0.0, "timeout": 1e-300})
    response = await post_raw(http, "/api/flows", {
        "name": "n" * NAME_MAX, "project": "p" * NAME_MAX, "spec": spec,
        "labels": ["l" * NAME_MAX, "\U0001f600" * NAME_MAX],
        "storage": {"k": "\u2028\ufeff\U0010ffff", "n": -(2**70), "f": 1.7976931348623157e308},
        "max_retries": 10_000})
    assert response.status_code == 201, response.text
    flow = response.json()
    response = await post_raw(http, "/api/flow_runs", {
        "flow_id": flow["id"], "idempotency_key": "k" * NAME_MAX, "max_retries": 10_000,
        "parameters": {"p": deep_default}, "labels": ["l" * NAME_MAX],
        "scheduled_start": "0001-01-01T00:00:00+00:00"})
    assert response.status_code == 201, response.text
    run = response.json()
    response = await post_raw(http, f"/api/flow_runs/{run['id']}/logs", [
        {"message": "\ud800\x00" * 1000, "level": "x" * 100, "task_slug": "\udce9" * 400,
         "map_index": INT32_MAX, "timestamp": "0001-01-01T00:00:00+14:00"}])
    assert response.status_code == 200, response.text
    for path in ["/api/flows", "/api/flow_runs", f"/api/flow_runs/{run['id']}/logs",
                 f"/api/flow_runs/{run['id']}", f"/api/flows/{flow['id']}",
                 f"/api/flow_runs/{run['id']}/events"]:
        listed = await http.get(path)
        assert listed.status_code == 200, (path, listed.text)
    assert (await http.get("/api/flows")).json()["items"][0]["name"] == "n" * NAME_MAX
