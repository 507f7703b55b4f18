"""Prefect 1.x run behaviour, on every executor (the ``executor`` fixture): triggers,
signals, parameters, class-based tasks, operators and tasks that cannot travel."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import threading

import compat_tasks as ct
import pytest

from jupyter_flows import (
    DateTimeParameter,
    Flow,
    Parameter,
    task,
    triggers,
    unmapped,
)
from jupyter_flows.engine.states import Failed, Paused, Pending, Success, TriggerFailed
from jupyter_flows.errors import ParameterError

IN_PROCESS = {"local", "threads"}


def test_some_successful_without_upstream_tasks_runs(executor, log) -> None:
    """Prefect's ``some_successful``/``some_failed`` return True when there are no
    upstream states at all; a bound below 1 is a fraction."""
    with Flow("no-upstream") as flow:
        alone = task(ct.ran, trigger=triggers.some_successful(at_least=2))(log)
        half = task(ct.inc, trigger=triggers.some_failed(at_most=0.5))(
            1, upstream_tasks=[task(ct.divide)(0), task(ct.divide)(1)])
    state = flow.run(executor=executor)
    assert state.result[alone].result == "ran"
    assert state.result[half].result == 2  # one of two upstream failed: 0.5 of them


def test_a_trigger_with_prefects_signature(executor, log) -> None:
    """A custom trigger gets ``dict[Edge, State]`` and may raise TRIGGERFAIL, which makes
    the task TriggerFailed with the trigger's message."""
    with Flow("custom-trigger") as flow:
        a = task(ct.inc)(1)
        keyed = task(ct.inc, trigger=ct.all_upstream_named)(a)
        ordered = task(ct.ran, trigger=ct.all_upstream_named)(log, upstream_tasks=[a])
    state = flow.run(executor=executor)
    assert state.result[keyed].result == 3
    refused = state.result[ordered]
    assert type(refused) is TriggerFailed
    assert "an order-only upstream is not allowed" in refused.message
    assert ct.lines(log) == []


def test_a_mapped_upstream_set_fails_the_map_clearly(executor) -> None:
    """Mapping needs subscriptable results; a task returning a set makes the mapped task
    Failed with the reason, and ``flow.run`` returns normally."""
    with Flow("map-set") as flow:
        t = task(ct.inc).map(task(ct.make_set)())
    state = flow.run(executor=executor)
    assert type(state.result[t]) is Failed
    assert state.result[t].message.endswith("its result is not a sequence")


def test_class_based_tasks_and_self_logger(executor) -> None:
    """A Task subclass defining ``run`` runs like a decorated function; ``self.logger``
    is the task run's logger; ``defaults_from_attrs`` fills arguments from attributes."""
    with Flow("classes") as flow:
        tripled = ct.Multiply(factor=3)(4)
        doubled = ct.Multiply()(5)
        overridden = ct.Multiply()(5, factor=10)
    state = flow.run(executor=executor)
    assert [state.result[t].result for t in (tripled, doubled, overridden)] == [12, 10, 50]


def test_self_logger_records_carry_the_task(in_process_executor, caplog) -> None:
    """``self.logger`` in ``run`` logs as the task run (its slug on every record)."""
    with Flow("logger") as flow:
        t = ct.Multiply(factor=3)(4)
    with caplog.at_level(logging.INFO, logger="jupyter_flows.task"):
        flow.run(executor=in_process_executor)
    (record,) = [r for r in caplog.records if "multiplying" in r.getMessage()]
    assert record.task_slug == t.slug  # type: ignore[attr-defined]


def test_map_with_unmapped_upstream_tasks_runs(executor, log) -> None:
    """``inc.map([1, 2], upstream_tasks=[unmapped(setup)])``: setup runs once, first."""
    with Flow("unmapped-upstream") as flow:
        setup = task(ct.noted)(log, "setup")
        mapped = task(ct.noted).map(unmapped(log), [1, 2],
                                    upstream_tasks=[unmapped(setup)])
    state = flow.run(executor=executor)
    assert state.result[mapped].result == [1, 2]
    assert ct.lines(log)[0] == "setup" and sorted(ct.lines(log)[1:]) == ["1", "2"]


def test_loop_signal(executor) -> None:
    """``raise LOOP(result=...)`` reruns the task with ``task_loop_result`` and a growing
    ``task_loop_count`` in context; returning ends it (Prefect's own looping example)."""
    with Flow("looping") as flow:
        inter = task(ct.looper)(10)
        final = task(ct.square)(inter)
    state = flow.run(executor=executor)
    assert state.is_successful()
    assert state.result[inter].result == 200
    assert state.result[final].result == 200 ** 2


def test_manual_only_and_pause_task(executor, log) -> None:
    """A ``manual_only`` task and one calling ``pause_task()`` end Paused (downstream
    waits, Pending); resuming reruns them with ``resume`` in context, so ``pause_task``
    lets the task through and the flow finishes."""
    with Flow("approval") as flow:
        gate = task(ct.noted, trigger=triggers.manual_only)(log, "gate")
        approval = task(ct.approve)(log, upstream_tasks=[gate])
        after = task(ct.noted)(log, "after", upstream_tasks=[approval])
    first = flow.run(executor=executor)
    assert type(first) is Paused and type(first.result[gate]) is Paused
    assert type(first.result[after]) is Pending
    second = flow.run(executor=executor, task_states=first.result, resume=[gate])
    assert type(second.result[approval]) is Paused
    assert second.result[approval].message == "needs a person"
    third = flow.run(executor=executor, task_states=second.result, resume=[approval])
    assert third.is_successful(), third
    assert ct.lines(log) == ["gate", "before the pause", "before the pause", "approved",
                             "after"]


def test_parameters_as_run_keywords(executor) -> None:
    """``flow.run(x=2)`` passes parameter ``x``; other keywords go to the runner."""
    with Flow("kw") as flow:
        x = Parameter("x")
        t = task(ct.inc)(x)
    assert flow.run(x=2, executor=executor).result[t].result == 3
    with pytest.raises(ParameterError, match="needs a value for required parameter 'x'"):
        flow.run(executor=executor)


def test_datetime_parameter(executor) -> None:
    """A DateTimeParameter's value is a datetime, given as one or as ISO 8601 text; None
    stays None; anything else is refused before the run starts."""
    with Flow("when") as flow:
        when = DateTimeParameter("when", required=False)
        seen = task(lambda d: d)(when)
    state = flow.run(executor=executor, when="2024-05-01T06:00:00Z")
    assert state.result[seen].result == dt.datetime(2024, 5, 1, 6, tzinfo=dt.timezone.utc)
    assert flow.run(executor=executor).result[seen].result is None
    with pytest.raises(ParameterError, match="parameter 'when': expected a datetime"):
        flow.run(executor=executor, when="next tuesday")


def test_operators_run(executor) -> None:
    """Operator tasks compute what the operator says, with tasks and constants mixed."""
    with Flow("ops") as flow:
        a = task(ct.inc)(1)
        results = {"add": a + 3, "radd": 10 + a, "mul": a * a, "div": a / 4, "pow": a ** 3,
                   "item": task(ct.pair)(a)[1], "gt": a > 1, "eq": a.is_equal(2),
                   "not": a.not_()}
    state = flow.run(executor=executor)
    assert {k: state.result[t].result for k, t in results.items()} == {
        "add": 5, "radd": 12, "mul": 4, "div": 0.5, "pow": 8, "item": 1, "gt": True,
        "eq": True, "not": False}


def test_unpacking_nout_results(executor) -> None:
    """``hi, lo = pair(10)`` with nout gives one task per result."""
    with Flow("unpack") as flow:
        hi, lo = task(ct.pair)(10)
    state = flow.run(executor=executor)
    assert (state.result[hi].result, state.result[lo].result) == (11, 9)


def test_a_task_that_cannot_be_pickled_fails_alone(executor, executor_kind) -> None:
    """A task whose function cannot be sent to workers fails with a message naming it
    (Prefect's executors report per-task failures); the rest of the flow runs."""
    with Flow("unpicklable") as flow:
        locked = task(functools.partial(ct.with_lock, threading.Lock()), name="locked")(1)
        fine = task(ct.inc)(1)
        after = task(ct.inc)(locked)
    state = flow.run(executor=executor)
    assert state.result[fine].result == 2
    if executor_kind in IN_PROCESS:
        assert state.result[after].result == 3  # nothing travels: nothing to pickle
        return
    final = state.result[locked]
    assert type(final) is Failed
    assert final.message.startswith(f"task {locked.slug!r} cannot be sent to")
    assert "cannot pickle '_thread.lock' object" in final.message
    assert type(state.result[after]) is TriggerFailed


def test_on_failure_callback(executor, log) -> None:
    """``on_failure(task, state)`` is called when the task fails."""
    def note_failure(log_path, t, state):  # type: ignore[no-untyped-def]
        ct.record(log_path, f"{t.name} {state.name}")

    with Flow("on-failure") as flow:
        task(ct.divide, on_failure=functools.partial(note_failure, log))(0)
    flow.run(executor=executor)
    assert ct.lines(log) == ["divide Failed"]


def test_success_states_keep_their_type(executor) -> None:
    """A sanity check on the suite: a plain task still ends Success."""
    with Flow("plain") as flow:
        t = task(ct.inc)(1)
    assert type(flow.run(executor=executor).result[t]) is Success
