"""Building flows: what calls, maps and the imperative API put in the graph, the errors a
wrong graph raises (each naming what broke), and running built flows on every executor."""

from __future__ import annotations

import engine_tasks as et
import pytest

from jupyter_flows import Flow, Parameter, Task, case, merge, task
from jupyter_flows.errors import (
    BindError,
    CycleError,
    DuplicateSlugError,
    FlowContextError,
    ParameterError,
)

inc = task(et.inc)
add = task(et.add)
total = task(et.total)


# --------------------------------------------------------------------- graph shape


def test_calls_copy_the_task_and_number_slugs() -> None:
    with Flow("slugs") as flow:
        a = inc(1)
        b = inc(a)
        c = add(a, b)

    assert [t.slug for t in flow.tasks] == ["inc-1", "inc-2", "add-1"]
    assert inc not in flow  # the decorated task is a template; calls bind copies
    assert flow.upstream_tasks(c) == [a, b]
    assert {(e.upstream, e.key) for e in flow.edges_to(c)} == {(a, "x"), (b, "y")}
    assert flow.constants[a] == {"x": 1}
    assert flow.root_tasks() == [a]
    assert flow.terminal_tasks() == [c]
    assert flow.reference_tasks() == [c]


def test_literals_holding_tasks_become_collection_tasks(executor) -> None:
    with Flow("literals") as flow:
        a, b = inc(1), inc(2)
        s = total([a, b, 10])

    (collection,) = flow.upstream_tasks(s)
    assert collection.name == "list"
    assert set(flow.upstream_tasks(collection)) == {a, b}
    state = flow.run(executor=executor)
    assert state.result[s].result == 2 + 3 + 10


def test_imperative_api_wires_and_orders_tasks(executor, log) -> None:
    first, second, third = (task(et.noted, name=n) for n in ("first", "second", "third"))
    flow = Flow("imperative")
    flow.set_dependencies(first, keyword_tasks={"log": log, "value": 1})
    flow.set_dependencies(second, keyword_tasks={"log": log, "value": 2})
    flow.set_dependencies(third, keyword_tasks={"log": log, "value": 3})
    flow.chain(third, first, second)

    assert [t.name for t in flow.sorted_tasks()] == ["third", "first", "second"]
    state = flow.run(executor=executor)
    assert state.is_successful()
    assert et.lines(log) == ["3", "1", "2"]


def test_upstream_tasks_orders_without_passing_data(executor, log) -> None:
    noted = task(et.noted)
    with Flow("order-only") as flow:
        a = noted(log, "a")
        b = noted(log, "b", upstream_tasks=[a])
        c = noted(log, "c", upstream_tasks=[b])

    assert flow.edges_to(c)[-1].key is None
    state = flow.run(executor=executor)
    assert state.is_successful()
    assert et.lines(log) == ["a", "b", "c"]


def test_nout_unpacks_a_tuple_result(executor) -> None:
    pair = task(et.pair, nout=2)
    with Flow("nout") as flow:
        x, x_squared = pair(7)
        s = add(x, x_squared)

    state = flow.run(executor=executor)
    assert state.result[x].result == 7
    assert state.result[x_squared].result == 49
    assert state.result[s].result == 56


def test_a_task_without_nout_is_not_iterable() -> None:
    with Flow("no-nout"), pytest.raises(TypeError, match="give it nout=N"):
        _a, _b = inc(1)


def test_indexing_a_task_result(executor) -> None:
    with Flow("getitem") as flow:
        report = task(et.tag)(4)
        value = report["value"]

    assert flow.run(executor=executor).result[value].result == 40


def test_subclassed_task(executor) -> None:
    class Multiply(Task):
        def __init__(self, factor: int) -> None:
            self.factor = factor
            super().__init__(name="multiply")

        def run(self, x: int) -> int:
            return x * self.factor

    with Flow("subclass") as flow:
        m = Multiply(3)(inc(1))

    assert flow.run(executor=executor).result[m].result == 6


# -------------------------------------------------------------------- parameters


def test_parameters_defaults_and_values(executor) -> None:
    with Flow("params") as flow:
        x = Parameter("x")
        y = Parameter("y", default=10)
        s = add(x, y)

    assert flow.run(parameters={"x": 1}, executor=executor).result[s].result == 11
    assert flow.run(parameters={"x": 1, "y": 2}, executor=executor).result[s].result == 3


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        pytest.param({}, "needs a value for required parameter 'x'", id="missing-required"),
        pytest.param({"x": 1, "z": 2}, "has no parameter 'z'; its parameters are: x, y",
                     id="unknown"),
    ],
)
def test_parameter_errors_name_the_parameter(parameters, message, log) -> None:
    with Flow("param-errors") as flow:
        x = Parameter("x")
        y = Parameter("y", default=0)
        task(et.noted_add)(log, x, y)

    with pytest.raises(ParameterError, match=message):
        flow.run(parameters=parameters)
    assert et.lines(log) == []  # nothing ran


def test_parameter_joins_the_flow_even_when_unused() -> None:
    with Flow("unused") as flow:
        Parameter("unused", default=1)
    assert [p.name for p in flow.parameters()] == ["unused"]


def test_parameter_cannot_be_called() -> None:
    with Flow("call-param"):
        p = Parameter("p", default=1)
        with pytest.raises(TypeError, match="parameter 'p' cannot be called"):
            p()


# -------------------------------------------------------------- definition errors


def test_cycle_error_names_the_path(log) -> None:
    a, b, c = (task(et.noted, name=n, slug=n) for n in "abc")
    flow = Flow("cyclic")
    for t, v in ((a, 1), (b, 2), (c, 3)):
        flow.set_dependencies(t, keyword_tasks={"log": log, "value": v})
    flow.chain(a, b, c)
    flow.add_edge(c, b)

    with pytest.raises(CycleError) as info:
        flow.run()
    assert info.value.path == ["b", "c", "b"]
    assert str(info.value) == "flow 'cyclic' has a cycle: b -> c -> b"
    assert et.lines(log) == []


def test_self_loop_is_a_cycle() -> None:
    a = task(et.inc, slug="a")
    flow = Flow("self-loop")
    flow.add_edge(a, a, key="x")
    with pytest.raises(CycleError, match="a -> a"):
        flow.validate()


@pytest.mark.parametrize(
    "make_second",
    [
        pytest.param(lambda: task(et.inc, slug="same"), id="tasks"),
        pytest.param(lambda: Parameter("same"), id="parameters"),
    ],
)
def test_duplicate_slug(make_second) -> None:
    flow = Flow("dupes")
    flow.add_task(task(et.inc, slug="same"))
    with pytest.raises(DuplicateSlugError, match="already has a task with slug 'same'"):
        flow.add_task(make_second())


def test_adding_one_task_twice_is_not_a_duplicate() -> None:
    flow = Flow("twice")
    t = task(et.inc, slug="once")
    flow.add_task(t)
    flow.add_task(t)
    assert flow.tasks == [t]


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(lambda: inc(1), "task 'inc' was called outside a flow", id="call"),
        pytest.param(lambda: inc.map([1, 2]), "task 'inc' was called outside a flow", id="map"),
        pytest.param(lambda: case(inc, True).__enter__(), "inside `with Flow", id="case"),
        pytest.param(lambda: merge(inc), "inside `with Flow", id="merge"),
        pytest.param(lambda: inc.set_upstream(add), "set_upstream needs a flow",
                     id="set_upstream"),
    ],
)
def test_outside_a_flow_raises_flow_context_error(call, message) -> None:
    with pytest.raises(FlowContextError, match=message):
        call()


def test_flow_context_does_not_leak_after_the_block() -> None:
    with Flow("closed"):
        inc(1)
    with pytest.raises(FlowContextError):
        inc(2)


@pytest.mark.parametrize(
    ("bind", "message"),
    [
        pytest.param(lambda: inc(1, 2), "too many positional arguments", id="too-many"),
        pytest.param(lambda: inc(z=1), "unexpected keyword argument 'z'", id="unknown-kw"),
        pytest.param(lambda: add(1, x=2), "multiple values for argument 'x'", id="twice"),
    ],
)
def test_bind_errors_name_the_task(bind, message) -> None:
    with Flow("binds"), pytest.raises(BindError, match=rf"task '\w+': .*{message}"):
        bind()


def test_star_args_are_rejected() -> None:
    def spread(*values: int) -> int:
        return sum(values)

    with pytest.raises(BindError, match=r"\*values is not supported"):
        task(spread)


# --------------------------------------------------------------- reference tasks


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        # terminal tasks: "ok" and the always_run cleanup after "bad", both successful
        pytest.param(None, "Success", id="default-terminal-tasks-hide-a-handled-failure"),
        pytest.param(["bad"], "Failed", id="the-failed-task"),
        pytest.param(["ok"], "Success", id="only-the-successful-task"),
        pytest.param(["ok", "cleanup", "bad"], "Failed", id="all-three"),
    ],
)
def test_reference_tasks_decide_the_flow_state(executor, log, reference, expected) -> None:
    from jupyter_flows import triggers

    outcome = task(et.succeed_or_fail)
    with Flow("references") as flow:
        tasks = {
            "ok": outcome("ok"),
            "bad": (bad := outcome("fail")),
            "cleanup": task(et.ran, trigger=triggers.always_run)(log, upstream_tasks=[bad]),
        }
    if reference is not None:
        flow.set_reference_tasks([tasks[name] for name in reference])

    state = flow.run(executor=executor)
    assert state.name == expected
    assert state.result[tasks["bad"]].is_failed()
    assert state.result[tasks["cleanup"]].result == "ran"


def test_a_failed_flow_names_the_task_that_raised_not_the_last_one(executor) -> None:
    """The terminal tasks only did not run (TriggerFailed); the message names the cause."""
    with Flow("headline") as flow:
        first = inc(1)
        bad = task(et.boom)("no such column", upstream_tasks=[first])
        add(inc(bad), 2)
        total([inc(bad), inc(5)])
    state = flow.run(executor=executor)
    assert state.name == "Failed"
    assert state.message == ("task 'boom-1' failed: UserError: no such column; reference"
                             " tasks failed: add-1, total-1")


def test_a_failed_map_child_is_named_with_its_index() -> None:
    fail_on = task(et.succeed_or_fail)
    with Flow("children") as flow:
        fail_on.map(["ok", "fail", "ok"])
    state = flow.run()
    assert state.message.startswith("task 'succeed_or_fail-1[1]' failed: ")


def test_reference_task_must_be_in_the_flow() -> None:
    flow = Flow("refs")
    with pytest.raises(ValueError, match="are not in flow 'refs'"):
        flow.set_reference_tasks([task(et.inc)])
