"""Mapping: over runtime lists (empty too), parameters and constants, map over map child by
child, unmapped and flatten arguments, reduce after a map, and maps whose upstream fails."""

from __future__ import annotations

import engine_tasks as et
import pytest

from jupyter_flows import Flow, Parameter, flatten, task, unmapped
from jupyter_flows.engine.states import Failed, Mapped, Skipped, TriggerFailed
from jupyter_flows.errors import BindError

inc = task(et.inc)
add = task(et.add)
total = task(et.total)
make_list = task(et.make_list)
make_nested = task(et.make_nested)


def _runtime_list(n):
    return make_list(n)


def _constant_list(n):
    return list(range(n))


def _parameter(n):
    return Parameter("xs", default=list(range(n)))


def _flattened(n):
    # a runtime [[0, ..., n-1]], flattened back to range(n)
    return flatten(task(et.as_list)([make_list(n)]))


@pytest.mark.parametrize("n", [0, 3], ids=lambda n: f"len-{n}")
@pytest.mark.parametrize(
    "source",
    [
        pytest.param(_runtime_list, id="runtime-list"),
        pytest.param(_constant_list, id="constant-list"),
        pytest.param(_parameter, id="parameter"),
        pytest.param(_flattened, id="flattened-runtime-list"),
    ],
)
def test_map_then_reduce(executor, source, n) -> None:
    with Flow("map-reduce") as flow:
        mapped = inc.map(source(n))
        reduced = total(mapped)

    state = flow.run(executor=executor)
    assert state.is_successful()
    parent = state.result[mapped]
    assert type(parent) is Mapped
    assert parent.result == [i + 1 for i in range(n)]
    assert [c.result for c in parent.map_states] == parent.result
    assert all(c.name == "Success" for c in parent.map_states)
    assert state.result[reduced].result == sum(i + 1 for i in range(n))


def test_map_over_a_parameter_value_given_at_run_time(executor) -> None:
    with Flow("map-param") as flow:
        xs = Parameter("xs")
        mapped = inc.map(xs)
    state = flow.run(parameters={"xs": [10, 20]}, executor=executor)
    assert state.result[mapped].result == [11, 21]


def test_map_over_map_is_child_by_child(executor) -> None:
    tag, untag = task(et.tag), task(et.untag)
    with Flow("map-map") as flow:
        first = tag.map(make_list(4))
        second = untag.map(first)
        third = inc.map(task(et.double).map(make_list(4)))

    state = flow.run(executor=executor)
    children = state.result[second].map_states
    assert len(children) == 4
    for i, child in enumerate(children):
        # child i downstream received child i upstream: the source travels with the value
        assert child.result == (i, i * 10 + 1)
    assert state.result[third].result == [2 * i + 1 for i in range(4)]


def test_unmapped_argument_goes_whole_to_every_child(executor) -> None:
    with Flow("unmapped") as flow:
        offset = inc(99)
        mapped = add.map(make_list(3), unmapped(offset))
        constant = add.map([1, 2], y=unmapped(1000))
    state = flow.run(executor=executor)
    assert state.result[mapped].result == [100, 101, 102]
    assert state.result[constant].result == [1001, 1002]


def test_flatten_concatenates_before_mapping(executor) -> None:
    with Flow("flatten") as flow:
        nested = make_nested(3)  # [[0], [1, 1], [2, 2, 2]]
        mapped = inc.map(flatten(nested))
        constant = inc.map(flatten([[1, 2], [], [3]]))
    state = flow.run(executor=executor)
    assert state.result[mapped].result == [1, 2, 2, 3, 3, 3]
    assert state.result[constant].result == [2, 3, 4]


def test_flatten_a_map_of_lists(executor) -> None:
    with Flow("flatten-map") as flow:
        rows = make_list.map([1, 2, 3])  # [[0], [0, 1], [0, 1, 2]]
        mapped = inc.map(flatten(rows))
    state = flow.run(executor=executor)
    assert state.result[mapped].result == [1, 1, 2, 1, 2, 3]


def test_zipped_maps_use_the_shortest(executor) -> None:
    with Flow("zip") as flow:
        mapped = add.map(make_list(5), [10, 20, 30])
    state = flow.run(executor=executor)
    assert state.result[mapped].result == [10, 21, 32]


def test_failed_upstream_of_a_map(executor, log) -> None:
    with Flow("map-failed-upstream") as flow:
        source = task(et.boom)()
        mapped = task(et.noted_inc).map(unmapped(log), source)
        after = total(mapped)
    state = flow.run(executor=executor)
    assert state.is_failed()
    assert type(state.result[mapped]) is TriggerFailed
    assert state.result[mapped].map_states is None
    assert type(state.result[after]) is TriggerFailed
    assert et.lines(log) == []


def test_map_over_a_non_sequence_fails_naming_the_upstream(executor) -> None:
    with Flow("not-a-sequence") as flow:
        source = task(et.not_a_sequence)(task_args={"slug": "number"})
        mapped = inc.map(source)
    state = flow.run(executor=executor)
    final = state.result[mapped]
    assert type(final) is Failed
    assert final.message == "cannot map over 'number': its result is not a sequence"


def test_map_over_a_constant_non_sequence_fails() -> None:
    with Flow("const-not-a-sequence") as flow:
        mapped = inc.map(5)
    final = flow.run().result[mapped]
    assert type(final) is Failed
    assert "is not a sequence" in final.message


def test_one_failing_child_fails_the_reduce_but_not_its_siblings(executor) -> None:
    outcome = task(et.succeed_or_fail)
    with Flow("child-fails") as flow:
        mapped = outcome.map(["ok", "fail", "ok"])
        after = task(et.as_list)(mapped)
    state = flow.run(executor=executor)
    assert [c.name for c in state.result[mapped].map_states] == ["Success", "Failed", "Success"]
    assert type(state.result[after]) is TriggerFailed
    assert state.is_failed()  # a failed child fails a reference mapped task


def test_skipped_child_skips_only_its_own_downstream_child(executor) -> None:
    outcome = task(et.succeed_or_fail)
    with Flow("child-skips") as flow:
        mapped = outcome.map(["ok", "skip", "ok"])
        second = task(et.as_list).map(mapped)
    state = flow.run(executor=executor)
    children = state.result[second].map_states
    assert type(children[1]) is Skipped
    assert [children[0].result, children[2].result] == [list("ok"), list("ok")]


def test_map_children_have_their_own_run_context(executor) -> None:
    with Flow("map-context") as flow:
        facts = task(et.run_facts).map([5, 6, 7])
    state = flow.run(executor=executor)
    assert [f["map_index"] for f in state.result[facts].result] == [0, 1, 2]
    assert {f["task_slug"] for f in state.result[facts].result} == {"run_facts-1"}


def test_unmapped_outside_map_is_a_bind_error() -> None:
    with Flow("bad-unmapped"), pytest.raises(BindError, match=r"for task\.map\(\)"):
        inc(unmapped(1))


def test_seeded_children_of_a_map_are_kept_and_only_the_others_run(in_process_executor
                                                                    ) -> None:
    # a restarted backend run seeds the children that succeeded (their results loaded from
    # checkpoints; here values that inc could not have made) and runs only the others
    from jupyter_flows.engine.states import Pending, Success

    with Flow("partial") as flow:
        xs = make_list(4)
        ys = inc.map(xs)
        total(ys)
    seeded = Pending("to run again")
    seeded.map_states = [Success(result=100), Pending(), Success(result=300), Pending()]
    state = flow.run(executor=in_process_executor,
                     task_states={xs: Success(result=[0, 1, 2, 3]), ys: seeded})
    assert state.is_successful(), state.message
    children = state.result[ys].map_states
    assert [c.result for c in children] == [100, 2, 300, 4]
    assert state.result[flow.task_by_slug("total-1")].result == 406
