"""Triggers: a table of upstream outcomes and the state each trigger gives the downstream
task, mapped upstreams counted per child, and manual_only pausing then resuming."""

from __future__ import annotations

import engine_tasks as et
import pytest

from jupyter_flows import Flow, task, triggers
from jupyter_flows.engine.states import Paused, Pending, Skipped, Success, TriggerFailed

outcome = task(et.succeed_or_fail)

TRIGGER_CASES = [
    # (id, trigger, upstream outcomes, downstream opts out of upstream skips, expected)
    ("all_successful-met", triggers.all_successful, ["ok", "ok"], False, Success),
    ("all_successful-not-met", triggers.all_successful, ["ok", "fail"], False, TriggerFailed),
    ("all_finished-with-failure", triggers.all_finished, ["ok", "fail"], False, Success),
    ("always_run-all-failed", triggers.always_run, ["fail", "fail"], False, Success),
    ("all_failed-met", triggers.all_failed, ["fail", "fail"], False, Success),
    ("all_failed-not-met", triggers.all_failed, ["ok", "fail"], False, TriggerFailed),
    ("any_successful-met", triggers.any_successful, ["fail", "ok"], False, Success),
    ("any_successful-not-met", triggers.any_successful, ["fail", "fail"], False,
     TriggerFailed),
    ("any_failed-met", triggers.any_failed, ["ok", "fail"], False, Success),
    ("any_failed-not-met", triggers.any_failed, ["ok", "ok"], False, TriggerFailed),
    ("some_successful-at_least-met", triggers.some_successful(at_least=2),
     ["ok", "fail", "ok"], False, Success),
    ("some_successful-at_least-not-met", triggers.some_successful(at_least=2),
     ["ok", "fail", "fail"], False, TriggerFailed),
    ("some_successful-at_most-exceeded", triggers.some_successful(at_most=1),
     ["ok", "ok", "fail"], False, TriggerFailed),
    ("some_successful-between", triggers.some_successful(at_least=1, at_most=2),
     ["ok", "ok", "fail"], False, Success),
    ("some_failed-fraction-met", triggers.some_failed(at_least=0.5),
     ["ok", "fail"], False, Success),
    ("some_failed-fraction-not-met", triggers.some_failed(at_least=0.5),
     ["ok", "ok", "fail"], False, TriggerFailed),
    ("some_failed-at_most-0", triggers.some_failed(at_most=0), ["ok", "fail"], False,
     TriggerFailed),
    ("not_all_skipped-met", triggers.not_all_skipped, ["ok", "skip"], True, Success),
    ("not_all_skipped-all-skipped-skips", triggers.not_all_skipped, ["skip", "skip"], True,
     Skipped),
    ("not_all_skipped-with-failure", triggers.not_all_skipped, ["ok", "fail"], True,
     TriggerFailed),
    ("manual_only-pauses", triggers.manual_only, ["ok"], False, Paused),
]


@pytest.fixture(scope="module")
def _table_runs() -> dict:
    return {}


@pytest.fixture
def table_run(executor, executor_kind, _table_runs, tmp_path_factory):
    """Every case of the table as its own subgraph of one flow, run once per executor: the
    cases share no task, so sharing the run changes nothing but the time it takes."""
    if executor_kind not in _table_runs:
        logs = tmp_path_factory.mktemp(f"trigger-table-{executor_kind}")
        downstream = {}
        with Flow("trigger-table") as flow:
            for case_id, trigger, outcomes, opt_out, _ in TRIGGER_CASES:
                upstream = [outcome(o) for o in outcomes]
                downstream[case_id] = task(
                    et.ran, trigger=trigger, skip_on_upstream_skip=not opt_out,
                )(str(logs / case_id), upstream_tasks=upstream)
        _table_runs[executor_kind] = (flow.run(executor=executor), downstream, logs)
    return _table_runs[executor_kind]


@pytest.mark.parametrize(
    ("case_id", "trigger", "expected"),
    [pytest.param(case[0], case[1], case[4], id=case[0]) for case in TRIGGER_CASES],
)
def test_trigger_table(table_run, case_id, trigger, expected) -> None:
    state, downstream, logs = table_run
    final = state.result[downstream[case_id]]
    assert type(final) is expected
    ran = expected is Success
    assert et.lines(logs / case_id) == (["ran"] if ran else [])
    if ran:
        assert final.result == "ran"
    if expected is TriggerFailed:
        assert final.message.startswith(f"trigger {trigger.__name__} was not met")


def test_trigger_failure_fails_the_flow(executor, log) -> None:
    with Flow("trigger-fails-flow") as flow:
        task(et.ran, trigger=triggers.all_failed)(log, upstream_tasks=[outcome("ok")])
    assert flow.run(executor=executor).is_failed()
    assert et.lines(log) == []


def test_some_successful_needs_a_bound() -> None:
    with pytest.raises(ValueError, match="give at_least, at_most or both"):
        triggers.some_successful()


def test_a_trigger_that_raises_fails_the_task(executor, log) -> None:
    def picky(states):
        raise RuntimeError("cannot decide")

    with Flow("raising-trigger") as flow:
        t = task(et.ran, trigger=picky)(log, upstream_tasks=[outcome("ok")])
    final = flow.run(executor=executor).result[t]
    assert type(final) is TriggerFailed
    assert final.message == "trigger picky raised RuntimeError: cannot decide"
    assert et.lines(log) == []


@pytest.mark.parametrize(
    ("at_least", "expected"),
    [
        pytest.param(2, Success, id="two-of-three-children-ok"),
        pytest.param(3, TriggerFailed, id="three-of-three-needed"),
    ],
)
def test_mapped_upstream_counts_once_per_child(executor, log, at_least, expected) -> None:
    with Flow("mapped-trigger") as flow:
        children = outcome.map(["ok", "fail", "ok"])
        t = task(et.ran, trigger=triggers.some_successful(at_least=at_least))(
            log, upstream_tasks=[children])
    state = flow.run(executor=executor)
    assert [s.name for s in state.result[children].map_states] == [
        "Success", "Failed", "Success"]
    assert type(state.result[t]) is expected


# -------------------------------------------------------------------- manual_only


@pytest.mark.parametrize("resume_by", ["task", "slug"])
def test_manual_only_pauses_then_resumes(executor, log, resume_by) -> None:
    noted = task(et.noted)
    with Flow("approval") as flow:
        prepare = noted(log, "prepare")
        approve = noted(log, "deploy", upstream_tasks=[prepare],
                        task_args={"trigger": triggers.manual_only, "slug": "deploy"})
        after = noted(log, "announce", upstream_tasks=[approve])

    first = flow.run(executor=executor)
    assert type(first) is Paused
    assert "deploy" in first.message
    assert type(first.result[approve]) is Paused
    assert type(first.result[after]) is Pending
    assert et.lines(log) == ["prepare"]

    token = approve if resume_by == "task" else "deploy"
    second = flow.run(executor=executor, task_states=first.result, resume=[token])
    assert second.is_successful(), second
    assert second.result[approve].result == "deploy"
    assert second.result[after].result == "announce"
    # the seeded upstream did not run again
    assert et.lines(log) == ["prepare", "deploy", "announce"]


def test_manual_only_without_resume_stays_paused(executor, log) -> None:
    with Flow("still-paused") as flow:
        gate = task(et.ran, trigger=triggers.manual_only)(log)
    first = flow.run(executor=executor)
    again = flow.run(executor=executor, task_states=first.result)
    assert type(again.result[gate]) is Paused
    assert type(again) is Paused
    assert et.lines(log) == []
