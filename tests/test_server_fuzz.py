"""Fuzz of the whole API (issue 11, item 8): schemathesis generates requests from the
server's own OpenAPI document, valid and invalid, and sends them to a real uvicorn
backend; no answer may be a 5xx. A fixed seed and a small budget (``FUZZ_EXAMPLES`` per
operation, a few hundred requests in all) keep it reproducible and quick enough for CI;
raise the budget locally with ``JUPYTER_FLOWS_FUZZ_EXAMPLES=200``.

Left out: the two event streams when asked for as Server-Sent Events (a stream is meant
to stay open), which ``claim_max_wait=0`` and a custom check make sure of.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as fixed_seed
from schemathesis import GenerationMode
from wire import spec_json

from jupyter_flows.server.testing import running_server

FUZZ_EXAMPLES = int(os.environ.get("JUPYTER_FLOWS_FUZZ_EXAMPLES", "8"))
#: Boundary cases per operation from schemathesis's coverage phase (deterministic: huge
#: ints, long lists, odd strings); this found the 500 of 10,000 labels in a run filter.
COVERAGE_CASES = 4 * FUZZ_EXAMPLES


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("fuzz") / "backend.db", claim_max_wait=0,
                        startup_timeout=120) as url:
        # something to find: a flow and a run (fuzzed ids are mostly unknown: 404)
        flow = httpx.post(f"{url}/api/flows", json={"name": "f", "spec": spec_json("f", ("a",))})
        httpx.post(f"{url}/api/flow_runs", json={"flow_id": flow.json()["id"]})
        yield url


def load(url: str) -> Any:
    return (schemathesis.openapi.from_url(f"{url}/openapi.json")
            .exclude(path="/api/events"))  # the list feed is only a stream


def operations(url: str) -> list[Any]:
    return [result.ok() for result in load(url).get_all_operations()]


def call(case: Any) -> int:
    headers = dict(case.headers or {})
    if "event-stream" in str(headers.get("accept", "")).lower():
        headers["accept"] = "application/json"  # a stream stays open by design
    case.headers = headers
    response = case.call(timeout=60)
    assert response.status_code < 500, (f"{case.method} {case.formatted_path} -> "
                                        f"{response.status_code}: {response.text[:500]}")
    return int(response.status_code)


def test_no_request_gets_a_5xx(backend: str) -> None:
    """Every operation, FUZZ_EXAMPLES cases each (positive and negative), same seed."""
    statuses: list[int] = []
    ops = operations(backend)
    assert len(ops) >= 15  # the whole API is there, not an empty document
    for operation in ops:

        @fixed_seed(20261202)
        @settings(max_examples=FUZZ_EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck), phases=[Phase.generate])
        @given(case=operation.as_strategy(generation_mode=GenerationMode.POSITIVE)
               | operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
        def fuzz(case: Any) -> None:
            statuses.append(call(case))

        fuzz()
    print(f"{len(statuses)} requests over {len(ops)} operations, statuses {sorted(set(statuses))}")
    assert len(statuses) >= 5 * len(ops)
    assert any(200 <= s < 300 for s in statuses) and any(s == 422 for s in statuses)


def test_no_boundary_case_gets_a_5xx(backend: str) -> None:
    """Schemathesis's coverage cases: each parameter at and past its bounds."""
    schema = load(backend)
    statuses: list[int] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        cases = schema.iter_coverage_cases(
            operation, generation_modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE],
            generation_config=schema.config.generation_for(operation=operation))
        statuses += [call(case) for case in itertools.islice(cases, COVERAGE_CASES)]
    print(f"{len(statuses)} boundary requests, statuses {sorted(set(statuses))}")
    assert any(s == 422 for s in statuses)
