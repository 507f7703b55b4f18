"""Prefect 1.x behaviour of building flows: task definitions, binding and graph edits.
Nothing here runs a flow; execution lives in the other files of this suite."""

from __future__ import annotations

import inspect
from datetime import timedelta
from typing import Any

import compat_tasks as ct
import pytest

from jupyter_flows import Flow, Parameter, Task, task, unmapped
from jupyter_flows.errors import BindError, TaskDefinitionError


def test_a_mapped_task_with_nout_is_not_iterable() -> None:
    """Prefect's ``map`` gives its copy ``nout=None``: unpacking a mapped task raises
    TypeError (its result is one list), while an unmapped call still unpacks into nout
    tasks, and a ``Tuple[...]`` return annotation sets nout."""
    two = task(ct.pair, nout=2)
    with Flow("nout"):
        with pytest.raises(TypeError, match="not iterable"):
            hi, lo = two.map([10, 20, 30])
        hi, lo = two(10)
    assert (hi.name, lo.name) == ("pair[0]", "pair[1]")
    assert task(ct.pair).nout == 2  # from `-> tuple[int, int]`
    assert task(ct.inc).nout is None


def test_tags_are_a_collection_and_task_args_add_to_them() -> None:
    """Prefect raises TypeError for ``tags="etl"`` (a string would be iterated letter by
    letter) and ``copy``/``task_args`` add the given tags to the task's own."""
    with pytest.raises(TypeError, match=r"tags must be a collection of strings.*\['etl'\]"):
        task(ct.inc, tags="etl")
    tagged = task(ct.inc, tags=["etl"])
    with Flow("tags"):
        called = tagged(1, task_args={"tags": ["nightly"]})
    assert called.tags == {"etl", "nightly"}
    assert tagged.tags == {"etl"}


@pytest.mark.parametrize("name", ["mapped", "upstream_tasks", "task_args", "flow"])
def test_reserved_argument_names_are_refused_at_definition(name: str) -> None:
    """Prefect refuses a ``run`` taking ``upstream_tasks``, ``mapped``, ``task_args`` or
    ``flow`` (ValueError at definition): a call would swallow them."""
    namespace: dict[str, Any] = {}
    exec(f"def g(x, {name}):\n    return x", namespace)
    with pytest.raises(ValueError, match=f"argument name.*'{name}'.*reserved"):
        task(namespace["g"])

    class Sub(Task):
        pass

    exec(f"def run(self, x, {name}):\n    return x", namespace)
    Sub.run = namespace["run"]  # type: ignore[method-assign]
    with pytest.raises(TaskDefinitionError, match="reserved"):
        Sub()


def test_a_call_with_mapped_true_maps() -> None:
    """In Prefect, ``g([1, 2], mapped=True)`` is ``g.map([1, 2])``."""
    with Flow("mapped-call") as flow:
        t = task(ct.inc)([1, 2], mapped=True)
    (edge,) = flow.edges_to(t)
    assert edge.mapped


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param({"retry_on": ["IOError"], "max_retries": 1},
                     r"retry_on must be exception classes.*got 'IOError' \(did you mean",
                     id="retry_on-strings"),
        pytest.param({"retry_on": [KeyError, 3], "max_retries": 1},
                     "retry_on must be exception classes", id="retry_on-number"),
        pytest.param({"max_retries": "3"}, "max_retries must be a whole number", id="text"),
        pytest.param({"timeout": "10"}, "timeout must be a number of seconds", id="timeout"),
        pytest.param({"state_handlers": [1]}, "state_handlers must be callables", id="handler"),
    ],
)
def test_bad_retry_options_are_refused_when_the_task_is_defined(options, message) -> None:
    """Prefect checks retry options when the task is made (TypeError/ValueError), never
    with a raw error inside the run."""
    with pytest.raises(TaskDefinitionError, match=f"task 'inc': {message}"):
        task(ct.inc, **options)


def test_max_retries_none_means_the_default() -> None:
    """Prefect reads ``max_retries=None`` (and ``retry_delay=None``) as "the configured
    default", which is no retries."""
    t = task(ct.inc, max_retries=None, retry_delay=None)
    assert (t.max_retries, t.retry_delay) == (0, 0.0)


def test_the_base_task_class_and_subclasses_with_run() -> None:
    """``Task(name="x")`` is a valid (do-nothing) task, and a subclass defining ``run``
    binds its arguments; ``self.logger`` exists outside a run too."""
    base = Task(name="x")
    with Flow("classes") as flow:
        base.bind(flow=flow)
        doubled = ct.Multiply(factor=3)(4)
    assert base in flow and doubled in flow
    assert flow.constants[doubled] == {"x": 4}
    assert base.logger.name == "jupyter_flows.task.x"
    assert inspect.signature(ct.Multiply().run).parameters["factor"].default is None


def test_binding_into_an_empty_flow() -> None:
    """``t.bind(1, flow=Flow("f"))`` and ``set_upstream(..., flow=f)`` work on a flow
    that has no task yet (an empty flow is not "no flow")."""
    flow = Flow("empty")
    t = task(ct.inc).copy()
    t.bind(1, flow=flow)
    other = task(ct.ran).copy()
    other.set_upstream(t, flow=Flow("also-empty"))
    assert t in flow and flow.constants[t] == {"x": 1}
    empty = Flow("third")
    t.set_downstream(task(ct.ran).copy(), flow=empty)
    assert len(empty) == 2


def test_map_takes_unmapped_upstream_tasks() -> None:
    """``upstream_tasks`` of ``map`` are mapped over, except those in ``unmapped``: one
    whole-result edge each."""
    with Flow("unmapped-upstream") as flow:
        setup = task(ct.ran)("x")
        mapped = task(ct.inc).map([1, 2], upstream_tasks=[unmapped(setup)])
    (order_edge,) = [e for e in flow.edges_to(mapped) if e.upstream is setup]
    assert not order_edge.mapped and order_edge.key is None


def test_flow_copy_replace_update() -> None:
    """``Flow.copy`` gives a flow whose graph can change alone, ``replace`` puts a new task
    in the old one's edges, ``update`` adds another flow's tasks, edges and constants
    (``merge_parameters`` makes shared parameters one)."""
    with Flow("base") as flow:
        x = Parameter("x", default=1)
        first = task(ct.inc)(x)
        second = task(ct.inc)(first)
    copy = flow.copy()
    extra = task(ct.ran).copy()
    copy.add_edge(second, extra)
    assert extra in copy and extra not in flow
    assert copy.edges_to(second) == flow.edges_to(second)

    new = task(ct.add)
    flow.replace(first, new)
    assert first not in flow
    assert [e.upstream for e in flow.edges_to(new)] == [x]
    assert [e.downstream for e in flow.edges_from(new)] == [second]

    with Flow("other") as other:
        x2 = Parameter("x", default=5)
        third = task(ct.add)(x2, 3)
    flow.update(other, merge_parameters=True)
    assert third in flow and flow.constants[third] == {"y": 3}
    assert [p.default for p in flow.parameters()] == [5]


def test_add_edge_and_set_dependencies_take_prefect_keywords() -> None:
    """``flow.add_edge(upstream_task=..., downstream_task=..., key=...)`` and
    ``task.set_dependencies(flow=..., upstream_tasks=..., keyword_tasks=...)``."""
    flow = Flow("keywords")
    a, b, c = (task(ct.inc).copy() for _ in range(3))
    flow.add_edge(upstream_task=a, downstream_task=b, key="x")
    c.set_dependencies(flow=flow, upstream_tasks=[b], keyword_tasks={"x": a})
    assert [(e.upstream, e.key) for e in flow.edges_to(c)] == [(b, None), (a, "x")]


def test_task_inputs_and_outputs() -> None:
    """``Task.inputs()`` maps each run argument to its type, whether it is required and its
    default; ``outputs()`` is the return annotation."""

    def fn(x: int, y: str = "a", z=None) -> float:  # type: ignore[no-untyped-def]
        return 1.0

    t = task(fn)
    assert t.inputs() == {
        "x": {"type": int, "required": True, "default": None},
        "y": {"type": str, "required": False, "default": "a"},
        "z": {"type": Any, "required": False, "default": None},
    }
    assert t.outputs() is float
    assert task(lambda: 1).outputs() is Any


def test_parameter_copy_takes_a_new_name() -> None:
    """``Parameter.copy(name)`` is a parameter of that name (its slug too)."""
    p = Parameter("x", default=1)
    q = p.copy("y")
    assert (q.name, q.slug, q.default) == ("y", "y", 1)
    with Flow("two-params") as flow:
        task(ct.add)(p, q)
    assert sorted(t.name for t in flow.parameters()) == ["x", "y"]


def test_operators_and_pipe_build_tasks() -> None:
    """Operators on tasks build tasks (``a + b``, ``a[0]``, ``a > 1``), ``a | b`` makes an
    order-only edge, and ``a.pipe(b, y=1)`` is ``b(a, y=1)``."""
    with Flow("ops") as flow:
        a = task(ct.inc)(1)
        total = a + 2
        first = task(ct.pair)(a)[0]
        big = a > 1
        after = task(ct.ran)("x")
        assert (a | after) is after
        piped = a.pipe(task(ct.add), y=10)
    assert type(total).__name__ == "Add" and flow.constants[total] == {"y": 2}
    assert type(big).__name__ == "GreaterThan"
    assert first.name == "pair[0]"
    assert [e.key for e in flow.edges_to(after)] == [None]
    assert flow.constants[piped] == {"y": 10}


def test_retry_delay_accepts_a_timedelta() -> None:
    """``retry_delay`` and ``timeout`` take timedeltas, as Prefect's do."""
    t = task(ct.inc, max_retries=1, retry_delay=timedelta(seconds=2), timeout=timedelta(1))
    assert (t.retry_delay, t.timeout) == (2.0, 86400.0)


def test_prefect_module_paths() -> None:
    """The names port with the import renamed: ``prefect.tasks.control_flow``,
    ``prefect.utilities.edges``, ``prefect.triggers``, ``prefect.engine.signals``."""
    from jupyter_flows.engine.signals import (  # noqa: F401
        FAIL,
        LOOP,
        PAUSE,
        RETRY,
        SKIP,
        SUCCESS,
        TRIGGERFAIL,
        VALIDATIONFAIL,
    )
    from jupyter_flows.tasks.control import FilterTask, case, ifelse, merge, switch
    from jupyter_flows.tasks.control_flow import FilterTask as F2
    from jupyter_flows.tasks.control_flow.conditional import switch as s2
    from jupyter_flows.triggers import all_successful, some_successful  # noqa: F401
    from jupyter_flows.utilities.edges import flatten, mapped, unmapped  # noqa: F401
    from jupyter_flows.utilities.tasks import apply_map, pause_task  # noqa: F401

    assert F2 is FilterTask and s2 is switch
    assert callable(case) and callable(ifelse) and callable(merge)


def test_a_mapped_constant_set_is_refused_with_a_reason_at_run(tmp_path) -> None:
    """Prefect maps only over subscriptable values; a set has no order. Here the mapped
    task ends Failed naming the reason (flow.run does not raise)."""
    with Flow("set") as flow:
        t = task(ct.inc).map({1, 2, 3})
    state = flow.run()
    assert state.result[t].is_failed()
    assert "a set is not a sequence" in state.result[t].message


def test_star_args_still_raise_bind_error() -> None:
    """``*args`` in ``run`` is refused (ValueError in Prefect; BindError here)."""

    def spread(*values: int) -> int:
        return sum(values)

    with pytest.raises(BindError):
        task(spread)
