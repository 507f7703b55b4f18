"""The flow spec: shape, determinism, hashing and JSON round trips."""

from __future__ import annotations

import json
from typing import Any

import pytest

from jupyter_flows import Flow, Parameter, flatten, task, triggers, unmapped
from jupyter_flows.api.flow_spec import flow_spec, spec_hash
from jupyter_flows.errors import CycleError


@task
def add(x: int, y: int = 0) -> int:
    return x + y


@task(max_retries=2, retry_delay=1.5, tags=["io", "alpha"], timeout=30)
def fetch(n: int) -> list[list[int]]:
    return [[i] for i in range(n)]


def build(**changes: Any) -> Flow:
    """One flow with parameters, mapped and flattened edges, constants and a reference task."""
    with Flow("etl") as flow:
        n = Parameter("n", default=changes.get("default", 3))
        Parameter("token")  # required, used by no task
        Parameter("when", default={1, 2})  # not JSON
        nested = fetch(n)
        offset = add(1, y=2)  # constants only
        mapped = add.map(flatten(nested), y=unmapped(offset))
        over_list = add.map([10, 20], task_args=changes.get("task_args"))
        total = add(mapped, over_list)
        if changes.get("extra_edge"):
            flow.add_edge(offset, over_list)
    flow.set_reference_tasks([total])
    return flow


def test_spec_describes_tasks_edges_and_parameters() -> None:
    spec = flow_spec(build()).as_json()
    tasks = {t["slug"]: t for t in spec["tasks"]}
    slugs = [t["slug"] for t in spec["tasks"]]

    assert spec["name"] == "etl"
    assert set(slugs) == {"n", "token", "when", "fetch-1", "add-1", "add-2",
                          "Constant[list]-1", "add-3", "add-4"}
    for edge in spec["edges"]:  # topological order
        assert slugs.index(edge["upstream"]) < slugs.index(edge["downstream"])
    assert spec["parameters"] == ["n", "token", "when"]
    assert spec["reference_tasks"] == ["add-4"]

    assert tasks["n"]["parameter"] == {"default": 3, "required": False}
    assert tasks["token"]["parameter"] == {"default": None, "required": True}
    assert tasks["when"]["parameter"] == {"default": None, "default_repr": "{1, 2}",
                                          "required": False}
    assert tasks["n"]["is_parameter"] and not tasks["fetch-1"]["is_parameter"]
    assert "parameter" not in tasks["fetch-1"]

    assert tasks["fetch-1"] | {"tags": None} == {
        "slug": "fetch-1", "name": "fetch", "type": "FunctionTask", "tags": None,
        "max_retries": 2, "retry_delay": 1.5, "timeout": 30.0, "trigger": "all_successful",
        "skip_on_upstream_skip": True, "cache_for": None, "checkpoint": None,
        "is_parameter": False, "mapped": False,
    }
    assert tasks["fetch-1"]["tags"] == ["alpha", "io"]
    assert tasks["Constant[list]-1"]["type"] == "Constant"
    assert [s for s, t in tasks.items() if t["mapped"]] == ["add-2", "add-3"]

    edges = {(e["upstream"], e["downstream"]): e for e in spec["edges"]}
    assert edges[("fetch-1", "add-2")] == {"upstream": "fetch-1", "downstream": "add-2",
                                           "key": "x", "mapped": True, "flattened": True}
    assert edges[("add-1", "add-2")]["mapped"] is False  # unmapped(offset)
    assert edges[("Constant[list]-1", "add-3")]["mapped"] is True
    assert ("add-1", "add-3") not in edges
    assert len(spec["edges"]) == 6


def test_spec_is_json_and_round_trips() -> None:
    spec = flow_spec(build()).as_json()
    text = json.dumps(spec, allow_nan=False)
    assert json.loads(text) == spec
    assert spec_hash(json.loads(text)) == spec_hash(spec)


def test_same_flow_built_twice_has_the_same_hash() -> None:
    first, second = flow_spec(build()).as_json(), flow_spec(build()).as_json()
    assert first == second
    assert spec_hash(first) == spec_hash(second)
    assert len(spec_hash(first)) == 64


def test_hash_ignores_key_order() -> None:
    spec = flow_spec(build()).as_json()
    reordered = json.loads(json.dumps(dict(reversed(list(spec.items())))))
    assert spec_hash(reordered) == spec_hash(spec)


@pytest.mark.parametrize(
    "changes",
    [
        {"task_args": {"max_retries": 1}},
        {"task_args": {"timeout": 5}},
        {"task_args": {"tags": frozenset({"gpu"})}},
        {"task_args": {"trigger": triggers.all_finished}},
        {"task_args": {"trigger": triggers.some_successful(at_least=1)}},
        {"task_args": {"checkpoint": False}},
        {"task_args": {"skip_on_upstream_skip": False}},
        {"default": 4},
        {"extra_edge": True},
    ],
    ids=lambda c: json.dumps(c, default=repr),
)
def test_changed_options_change_the_hash(changes: dict[str, Any]) -> None:
    assert spec_hash(flow_spec(build(**changes))) != spec_hash(flow_spec(build()))


def test_trigger_factories_are_named_with_their_bounds() -> None:
    flow = build(task_args={"trigger": triggers.some_successful(at_least=1)})
    [mapped] = [t for t in flow_spec(flow).as_json()["tasks"] if t["slug"] == "add-3"]
    assert mapped["trigger"] == "some_successful(at_least=1, at_most=None)"


def test_spec_of_a_cyclic_flow_names_the_cycle() -> None:
    flow = Flow("loop")
    a, b = add.copy(slug="a"), add.copy(slug="b")
    flow.add_edge(a, b)
    flow.add_edge(b, a)
    with pytest.raises(CycleError, match=r"a -> b -> a|b -> a -> b"):
        flow_spec(flow)
