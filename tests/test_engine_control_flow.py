"""Control flow: ``case`` blocks run only when their condition matches, ``merge`` picks the
branch that ran, and nested or mapped work inside a block follows its condition."""

from __future__ import annotations

import engine_tasks as et
import pytest

from jupyter_flows import Flow, Parameter, case, merge, task
from jupyter_flows.engine.states import Skipped, Success

noted = task(et.noted)


@pytest.mark.parametrize(
    ("route", "ran", "merged"),
    [
        pytest.param("left", ["left"], "left result", id="left-branch"),
        pytest.param("right", ["right"], "right result", id="right-branch"),
        pytest.param("neither", [], None, id="no-branch"),
    ],
)
def test_case_and_merge(executor, log, route, ran, merged) -> None:
    with Flow("branches") as flow:
        choice = Parameter("route")
        with case(choice, "left"):
            left = noted(log, "left")
            left_result = noted(log, "left result", upstream_tasks=[left])
        with case(choice, "right"):
            right = noted(log, "right")
            right_result = noted(log, "right result", upstream_tasks=[right])
        joined = merge(left_result, right_result)
        after = task(et.noted)(log, "after", upstream_tasks=[joined])

    state = flow.run(parameters={"route": route}, executor=executor)
    assert state.is_successful()
    branches = {"left": (left, left_result), "right": (right, right_result)}
    for name, tasks in branches.items():
        for t in tasks:
            assert type(state.result[t]) is (Success if name in ran else Skipped)
    assert [line for line in et.lines(log) if line in ("left", "right")] == ran
    if merged is None:  # no branch ran: the merge and what follows skip, nothing fails
        assert type(state.result[joined]) is Skipped
        assert type(state.result[after]) is Skipped
    else:
        assert state.result[joined].result == merged
        assert state.result[after].result == "after"


def test_case_compares_a_task_result(executor, log) -> None:
    with Flow("case-on-task") as flow:
        flag = task(et.succeed_or_fail)("ok")
        with case(flag, "ok"):
            yes = noted(log, "yes")
        with case(flag, "no"):
            no = noted(log, "no")
    state = flow.run(executor=executor)
    assert state.result[yes].result == "yes"
    assert type(state.result[no]) is Skipped
    assert et.lines(log) == ["yes"]


def test_nested_cases_need_both_conditions(executor, log) -> None:
    with Flow("nested") as flow:
        a, b = Parameter("a"), Parameter("b")
        with case(a, True):
            outer = noted(log, "outer")
            with case(b, True):
                inner = noted(log, "inner")

    for (va, vb), expected in [((True, True), ["outer", "inner"]), ((True, False), ["outer"]),
                               ((False, True), [])]:
        state = flow.run(parameters={"a": va, "b": vb}, executor=executor)
        ran = [name for name, t in (("outer", outer), ("inner", inner))
               if type(state.result[t]) is Success]
        assert ran == expected, (va, vb)


def test_chain_inside_a_case_skips_as_a_whole(executor, log) -> None:
    with Flow("case-chain") as flow:
        go = Parameter("go")
        with case(go, True):
            first = task(et.noted_inc)(log, 1)
            second = task(et.noted_inc)(log, first)
            mapped = task(et.inc).map(task(et.make_list)(second))
        outside = task(et.noted)(log, "outside")

    state = flow.run(parameters={"go": False}, executor=executor)
    assert all(type(state.result[t]) is Skipped for t in (first, second, mapped))
    assert state.result[outside].result == "outside"
    assert et.lines(log) == ["outside"]

    state = flow.run(parameters={"go": True}, executor=executor)
    assert state.result[mapped].result == [1, 2, 3]


def test_merge_takes_the_first_branch_that_is_not_none(executor) -> None:
    with Flow("merge-order") as flow:
        first = task(et.as_list)([])  # ran, but its result [] is not None either
        joined = merge(first, task(et.inc)(1))
    assert flow.run(executor=executor).result[joined].result == []
