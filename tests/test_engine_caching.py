"""Caching across runs (cache_for with each validator, map children, a directory store) and
checkpointed results: written on every executor, and read back from a target by a new
process without running the task again."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap

import engine_tasks as et
import pytest

from jupyter_flows import (
    DirectoryCacheStore,
    Flow,
    Parameter,
    Result,
    cache_validators,
    task,
    unmapped,
)
from jupyter_flows.engine.cache import MemoryCacheStore
from jupyter_flows.engine.states import Cached, Failed, Success
from jupyter_flows.errors import CacheError, ResultError

# Inputs x and y come from parameters a and b; parameter c reaches no task input, so
# changing it tells the parameter validators from the input validators.
FIRST = {"a": 1, "b": 2, "c": 3}

CACHE_CASES = [
    # (id, validator, cache_for, second run's parameters, cached?)
    ("duration_only-other-inputs", cache_validators.duration_only, 60,
     {"a": 5, "b": 6, "c": 7}, True),
    ("duration_only-expired", cache_validators.duration_only, 0, FIRST, False),
    ("default-validator-is-duration_only", None, 60, {"a": 5, "b": 6, "c": 3}, True),
    ("all_inputs-same-inputs", cache_validators.all_inputs, 60, {**FIRST, "c": 30}, True),
    ("all_inputs-other-input", cache_validators.all_inputs, 60, {**FIRST, "b": 20}, False),
    ("all_inputs-expired", cache_validators.all_inputs, 0, FIRST, False),
    ("all_parameters-same", cache_validators.all_parameters, 60, FIRST, True),
    ("all_parameters-unused-one-changed", cache_validators.all_parameters, 60,
     {**FIRST, "c": 30}, False),
    ("partial_inputs_only-other-input-changed", cache_validators.partial_inputs_only(["x"]),
     60, {**FIRST, "b": 20}, True),
    ("partial_inputs_only-named-input-changed", cache_validators.partial_inputs_only(["x"]),
     60, {**FIRST, "a": 10}, False),
    ("partial_parameters_only-other-changed",
     cache_validators.partial_parameters_only(["a"]), 60, {**FIRST, "c": 30}, True),
    ("partial_parameters_only-named-changed",
     cache_validators.partial_parameters_only(["a"]), 60, {**FIRST, "a": 10}, False),
    ("never_use", cache_validators.never_use, 60, FIRST, False),
]


def _cached_flow(log, **options):
    with Flow("cached") as flow:
        a, b = Parameter("a"), Parameter("b")
        Parameter("c")
        t = task(et.noted_add, **options)(log, a, b)
    return flow, t


@pytest.mark.parametrize(
    ("validator", "cache_for", "second", "hit"),
    [pytest.param(*case[1:], id=case[0]) for case in CACHE_CASES],
)
def test_cache_validators_across_two_runs(executor, log, validator, cache_for, second,
                                          hit) -> None:
    store = MemoryCacheStore()
    flow, t = _cached_flow(log, cache_for=cache_for, cache_validator=validator)

    first = flow.run(parameters=FIRST, executor=executor, cache_store=store).result[t]
    assert type(first) is Success
    assert first.result == 3

    again = flow.run(parameters=second, executor=executor, cache_store=store).result[t]
    if hit:
        assert type(again) is Cached
        assert again.result == 3  # the first run's result, whatever the new inputs
        assert et.lines(log) == ["1+2"]
    else:
        assert type(again) is Success
        assert again.result == second["a"] + second["b"]
        assert et.lines(log) == ["1+2", f"{second['a']}+{second['b']}"]


def test_no_cache_for_means_no_caching(executor, log) -> None:
    store = MemoryCacheStore()
    flow, t = _cached_flow(log)
    for _ in range(2):
        assert type(flow.run(parameters=FIRST, executor=executor,
                             cache_store=store).result[t]) is Success
    assert len(et.lines(log)) == 2
    assert len(store) == 0


def test_a_cached_run_keeps_the_original_expiry(executor, log) -> None:
    store = MemoryCacheStore()
    flow, t = _cached_flow(log, cache_for=60)
    first = flow.run(parameters=FIRST, executor=executor, cache_store=store).result[t]
    second = flow.run(parameters=FIRST, executor=executor, cache_store=store).result[t]
    assert type(second) is Cached
    assert second.cached_inputs["expires"] == first.cached_inputs["expires"]


def test_failed_runs_are_not_cached(executor, log) -> None:
    store = MemoryCacheStore()
    with Flow("failing-cache") as flow:
        t = task(et.flaky, cache_for=60)(log, 1)
    assert flow.run(executor=executor, cache_store=store).result[t].is_failed()
    assert flow.run(executor=executor, cache_store=store).result[t].result == 2
    assert type(flow.run(executor=executor, cache_store=store).result[t]) is Cached
    assert len(et.lines(log)) == 2


def test_map_children_are_cached_one_by_one(executor, log) -> None:
    store = MemoryCacheStore()
    with Flow("cached-map") as flow:
        xs = Parameter("xs")
        mapped = task(et.noted_inc, cache_for=60,
                      cache_validator=cache_validators.all_inputs).map(unmapped(log), xs)

    flow.run(parameters={"xs": [1, 2, 3]}, executor=executor, cache_store=store)
    state = flow.run(parameters={"xs": [1, 20, 3]}, executor=executor, cache_store=store)
    children = state.result[mapped].map_states
    assert [c.name for c in children] == ["Cached", "Success", "Cached"]
    assert state.result[mapped].result == [2, 21, 4]
    assert sorted(et.lines(log), key=int) == ["1", "2", "3", "20"]  # children run in parallel


def test_cache_key_shares_a_cache_between_flows(executor, log) -> None:
    store = MemoryCacheStore()
    states = []
    for name in ("producer", "consumer"):
        with Flow(name) as flow:
            t = task(et.noted, cache_for=60, cache_key="shared")(log, name)
        states.append(flow.run(executor=executor, cache_store=store).result[t])
    assert type(states[1]) is Cached
    assert states[1].result == "producer"
    assert et.lines(log) == ["producer"]


def test_directory_cache_store_survives_a_new_store(executor, log, tmp_path) -> None:
    flow, t = _cached_flow(log, cache_for=60, cache_validator=cache_validators.all_inputs)
    flow.run(parameters=FIRST, executor=executor,
             cache_store=DirectoryCacheStore(tmp_path / "cache"))
    reopened = DirectoryCacheStore(tmp_path / "cache")
    state = flow.run(parameters=FIRST, executor=executor, cache_store=reopened)
    assert type(state.result[t]) is Cached
    assert et.lines(log) == ["1+2"]
    reopened.clear()
    assert type(flow.run(parameters=FIRST, executor=executor,
                         cache_store=reopened).result[t]) is Success


def test_directory_cache_store_names_a_corrupt_file(tmp_path) -> None:
    store = DirectoryCacheStore(tmp_path)
    store.put("key", Success(result=1))
    assert store.get("key").result == 1
    path = next(tmp_path.glob("*.state"))
    path.write_bytes(b"not a pickle")
    with pytest.raises(CacheError, match=f"cannot unpickle {path}: UnpicklingError"):
        store.get("key")


def test_an_unreadable_cache_is_logged_and_the_task_runs(executor, log, tmp_path,
                                                          caplog) -> None:
    store = DirectoryCacheStore(tmp_path / "cache")
    flow, t = _cached_flow(log, cache_for=60)
    flow.run(parameters=FIRST, executor=executor, cache_store=store)
    for path in (tmp_path / "cache").glob("*.state"):
        path.write_bytes(b"truncated")
    with caplog.at_level(logging.WARNING, logger="jupyter_flows.engine"):
        state = flow.run(parameters=FIRST, executor=executor, cache_store=store)
    assert state.is_successful()
    assert type(state.result[t]) is Success and state.result[t].result == 3
    assert et.lines(log) == ["1+2", "1+2"]  # it ran again
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(m.startswith(f"task {t.slug!r}: cannot read its cached state 'cached/{t.slug}'"
                            f" from DirectoryCacheStore({str(tmp_path / 'cache')!r})")
               and "CacheError: cannot unpickle" in m and m.endswith("the task runs instead")
               for m in warnings), warnings


class BrokenStore(MemoryCacheStore):
    """A store whose reads fail (a network cache that is down)."""

    def get(self, key: str):
        raise OSError(f"cache server unreachable for {key}")

    def __repr__(self) -> str:
        return "BrokenStore()"


def test_a_store_that_raises_costs_a_rerun_of_mapped_children(executor, log,
                                                                caplog) -> None:
    with Flow("mapped-cache") as flow:
        t = task(et.noted_inc, cache_for=60).map(unmapped(log), [1, 2])
    with caplog.at_level(logging.WARNING, logger="jupyter_flows.engine"):
        state = flow.run(executor=executor, cache_store=BrokenStore())
    assert state.is_successful()
    assert [s.result for s in state.result[t].map_states] == [2, 3]
    assert sorted(et.lines(log)) == ["1", "2"]
    assert any(f"task {t.slug!r}: cannot read its cached state 'mapped-cache/{t.slug}[0]' "
               "from BrokenStore() (OSError: cache server unreachable" in r.getMessage()
               for r in caplog.records), caplog.text


# --------------------------------------------------------------------- checkpoints


def test_checkpoint_writes_the_result(executor, log, tmp_path) -> None:
    result = Result(str(tmp_path / "results"))
    with Flow("checkpoint", result=result) as flow:
        t = task(et.compute_report, checkpoint=True)(log, 4)
        plain = task(et.inc)(1)
    state = flow.run(executor=executor)
    final = state.result[t]
    assert final.location is not None
    assert final.location.startswith(str(tmp_path / "results") + "/checkpoint/compute_report-1/")
    assert result.read(final.location) == {"x": 4, "square": 16}
    assert state.result[plain].location is None


def test_target_makes_a_second_run_read_the_result(executor, log, tmp_path) -> None:
    with Flow("target", result=Result(str(tmp_path / "results"))) as flow:
        x = Parameter("x")
        t = task(et.compute_report, target="{task_name}/x={x}.pkl")(log, x)

    first = flow.run(parameters={"x": 3}, executor=executor).result[t]
    assert type(first) is Success
    assert first.location == f"{tmp_path}/results/compute_report/x=3.pkl"
    second = flow.run(parameters={"x": 3}, executor=executor).result[t]
    assert type(second) is Cached
    assert second.result == {"x": 3, "square": 9}
    other = flow.run(parameters={"x": 5}, executor=executor).result[t]
    assert type(other) is Success  # another target path
    assert et.lines(log) == ["3", "5"]


def test_target_with_a_map_index(executor, log, tmp_path) -> None:
    with Flow("target-map", result=Result(str(tmp_path / "results"))) as flow:
        mapped = task(et.noted_inc, target="{task_slug}/{map_index}.pkl").map(
            unmapped(log), [1, 2])
    flow.run(executor=executor)
    state = flow.run(executor=executor)
    assert [c.name for c in state.result[mapped].map_states] == ["Cached", "Cached"]
    assert state.result[mapped].result == [2, 3]
    assert sorted(p.name for p in (tmp_path / "results" / "noted_inc-1").iterdir()) == [
        "0.pkl", "1.pkl"]


def test_target_template_with_an_unknown_name_fails_the_task(executor, log, tmp_path) -> None:
    with Flow("bad-target", result=Result(str(tmp_path))) as flow:
        t = task(et.noted, target="{nope}.pkl")(log, 1)
    final = flow.run(executor=executor).result[t]
    assert type(final) is Failed
    assert "location template '{nope}.pkl' uses 'nope'" in final.message
    assert et.lines(log) == []


def test_checkpoint_without_a_result_location_names_the_task(log) -> None:
    with Flow("nowhere") as flow:
        task(et.noted, checkpoint=True)(log, 1)
    with pytest.raises(ResultError, match="task 'noted-1' checkpoints its result"):
        flow.run()
    assert et.lines(log) == []


def test_json_result_serializer(tmp_path) -> None:
    result = Result(str(tmp_path), serializer="json")
    location = result.write("a/b.json", {"k": [1, 2]})
    assert (tmp_path / "a" / "b.json").read_text() == '{"k": [1, 2]}'
    assert result.read(location) == {"k": [1, 2]}
    with pytest.raises(ValueError, match=r"Result\.serializer: expected one of"):
        Result(str(tmp_path), serializer="yaml")
    with pytest.raises(ResultError, match="no result at"):
        result.read("missing.json")


TARGET_SCRIPT = textwrap.dedent("""
    import json, sys
    import engine_tasks as et
    from jupyter_flows import Flow, Parameter, Result, task

    results, log = sys.argv[1], sys.argv[2]
    with Flow("target-new-process", result=Result(results)) as flow:
        x = Parameter("x")
        t = task(et.compute_report, target="{flow_name}/{x}.pkl")(log, x)
    state = flow.run(parameters={"x": 6})
    final = state.result[t]
    print(json.dumps({"state": final.name, "result": final.result}))
""")


@pytest.mark.slow
def test_target_is_read_back_in_a_new_process(executor, log, tmp_path) -> None:
    results = str(tmp_path / "results")
    with Flow("target-new-process", result=Result(results)) as flow:
        x = Parameter("x")
        t = task(et.compute_report, target="{flow_name}/{x}.pkl")(log, x)
    assert flow.run(parameters={"x": 6}, executor=executor).result[t].is_successful()

    script = tmp_path / "second_run.py"
    script.write_text(TARGET_SCRIPT)
    done = subprocess.run([sys.executable, str(script), results, log], capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == (
        '{"state": "Cached", "result": {"x": 6, "square": 36}}')
    assert et.lines(log) == ["6"]  # the function ran once, in the first process


def test_a_best_effort_result_that_cannot_be_written_is_logged_not_a_failure(
        in_process_executor, tmp_path, caplog) -> None:
    # the default checkpoints of backend runs are best effort: nobody asked for them, so a
    # result they cannot hold (here a set, for JSON) must not fail the task
    def run(best_effort: bool):
        result = Result(str(tmp_path), serializer="json", best_effort=best_effort)
        with Flow("sets", result=result) as flow:
            t = task(et.as_set, checkpoint=True)([1, 2])
        return flow.run(executor=in_process_executor).result[t]

    with caplog.at_level(logging.WARNING, logger="jupyter_flows"):
        kept = run(best_effort=True)
    assert (type(kept), kept.result, kept.location) == (Success, {1, 2}, None)
    assert any("this task run has no checkpoint" in r.getMessage() for r in caplog.records)
    failed = run(best_effort=False)
    assert type(failed) is Failed and "cannot write result to" in (failed.message or "")
