"""Prefect 1.x control flow on every executor: switch, ifelse, merge, FilterTask,
apply_map (with a case inside) and resource_manager."""

from __future__ import annotations

import compat_tasks as ct

from jupyter_flows import (
    FilterTask,
    Flow,
    apply_map,
    case,
    ifelse,
    merge,
    resource_manager,
    switch,
    task,
)
from jupyter_flows.engine.states import Skipped, Success

inc, noted = task(ct.inc), task(ct.noted)


def test_switch_runs_the_matching_case_and_skips_the_rest(executor, log) -> None:
    """``switch(condition, {value: task})`` runs the task whose key equals the condition's
    result; the others are Skipped, and so are their downstream tasks."""
    with Flow("switch") as flow:
        condition = task(lambda: "b")()
        a, b, c = noted(log, "a"), noted(log, "b"), noted(log, "c")
        after_a = noted(log, "after a", upstream_tasks=[a])
        switch(condition, {"a": a, "b": b, "c": c})
    state = flow.run(executor=executor)
    assert state.is_successful()
    assert state.result[b].result == "b"
    assert [type(state.result[t]) for t in (a, c, after_a)] == [Skipped] * 3
    assert ct.lines(log) == ["b"]


def test_ifelse_and_merge(executor, log) -> None:
    """``ifelse`` runs the true task for a truthy condition, else the false one; ``merge``
    returns the result of the branch that ran."""
    with Flow("ifelse") as flow:
        condition = task(ct.is_even)(4)
        yes, no = noted(log, "even"), noted(log, "odd")
        ifelse(condition, yes, no)
        merged = merge(yes, no)
        truthy = task(lambda: [0])()  # a non-empty list is truthy, though not True
        t2, f2 = noted(log, "truthy"), noted(log, "falsy")
        ifelse(truthy, t2, f2)
    state = flow.run(executor=executor)
    assert state.result[merged].result == "even"
    assert type(state.result[no]) is Skipped
    assert sorted(ct.lines(log)) == ["even", "truthy"]


def test_filter_task_drops_failed_and_skipped_children(executor) -> None:
    """FilterTask (trigger all_finished, no upstream skip) removes None and exceptions by
    default, as the results of skipped and failed map children are; ``filter_func`` keeps
    what it returns True for. Prefect's own example."""
    even_filter = FilterTask(filter_func=lambda x: x % 2 == 0)
    default_filter = FilterTask()
    with Flow("filter-numbers") as flow:
        even_numbers = even_filter(inc.map([-1, 0, 1, 2, 3, 99, 314]))
        final_numbers = default_filter(task(ct.divide).map(even_numbers))
    state = flow.run(executor=executor)
    assert state.result[even_numbers].result == [0, 2, 4, 100]
    assert state.result[final_numbers].result == [0.5, 0.25, 0.01]


def _inc_if_even(x):  # type: ignore[no-untyped-def]
    with case(task(ct.is_even)(x), True):
        x2 = inc(x)
    return merge(x2, x)


def test_apply_map_with_a_case_inside(executor) -> None:
    """``apply_map(func, xs)`` builds func's tasks (a case block and a merge here) once per
    element: each element takes its own branch."""
    with Flow("apply-map") as flow:
        result = apply_map(_inc_if_even, range(6))
    state = flow.run(executor=executor)
    assert state.is_successful(), state
    assert state.result[result].result == [1, 1, 3, 3, 5, 5]


def test_apply_map_over_a_task_with_an_unmapped_argument(executor) -> None:
    """Mapped task arguments map child by child; ``unmapped`` ones go whole to each."""

    def scaled_sum(x, y):  # type: ignore[no-untyped-def]
        return task(ct.add)(task(ct.square)(x), y)

    with Flow("apply-map-2") as flow:
        xs = task(lambda: [1, 2, 3])()
        total = apply_map(scaled_sum, xs, ct_unmapped(100))
    state = flow.run(executor=executor)
    assert state.result[total].result == [101, 104, 109]


def ct_unmapped(value):  # type: ignore[no-untyped-def]
    from jupyter_flows import unmapped

    return unmapped(value)


TempDir = resource_manager(ct.TempDir)


def test_resource_manager_sets_up_and_cleans_up(executor, log, tmp_path) -> None:
    """Tasks in a resource block run after setup and get the resource; cleanup runs after
    all of them, even when one failed; cleanup does not decide the flow's state."""
    with Flow("resource") as flow, TempDir(str(tmp_path / "work"), log) as directory:
        written = task(ct.write_in)(directory, "a.txt", log)
        broken = task(ct.fail_in)(directory, log)
    state = flow.run(executor=executor)
    assert state.is_failed()  # the failing task is a reference task, cleanup is not
    assert (tmp_path / "work" / "a.txt").read_text() == "a.txt"
    assert state.result[written].is_successful() and state.result[broken].is_failed()
    events = ct.lines(log)
    assert events[0] == "setup" and events[-1] == "cleanup work"
    assert sorted(events[1:-1]) == ["fail", "write a.txt"]
    cleanup = [t for t in flow.tasks if t.name == "TempDir.cleanup"]
    assert type(state.result[cleanup[0]]) is Success


def test_resource_cleanup_skips_when_setup_failed(executor, log) -> None:
    """If the resource's setup fails, the block's tasks do not run and cleanup skips."""
    broken_manager = resource_manager(ct.TempDir)
    with Flow("no-resource") as flow, broken_manager("/proc/cannot-make-this", log) as dirs:
        inside = task(ct.write_in)(dirs, "x", log)
    state = flow.run(executor=executor)
    assert state.is_failed()
    assert not state.result[inside].is_successful()
    cleanup = next(t for t in flow.tasks if t.name == "TempDir.cleanup")
    assert type(state.result[cleanup]) is Skipped
    assert ct.lines(log) == []
