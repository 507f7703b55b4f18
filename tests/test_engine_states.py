"""States: the tree and its predicates, what signals and user exceptions turn into, skip
propagation, failure tracebacks without engine frames, and state handlers."""

from __future__ import annotations

import functools
import pickle

import engine_tasks as et
import pytest

from jupyter_flows import Flow, task
from jupyter_flows.engine import states
from jupyter_flows.engine.observers import RunObserver
from jupyter_flows.engine.states import (
    Failed,
    Mapped,
    Skipped,
    Success,
    TimedOut,
    TriggerFailed,
    state_from_name,
)

# ------------------------------------------------------------------ the state tree

PREDICATES = ["is_pending", "is_scheduled", "is_paused", "is_retrying", "is_running",
              "is_finished", "is_successful", "is_failed", "is_cached", "is_mapped",
              "is_skipped", "is_timed_out", "is_crashed", "is_cancelled", "is_submitted"]


@pytest.mark.parametrize(
    ("name", "true_predicates"),
    [
        pytest.param("Pending", {"is_pending"}, id="Pending"),
        pytest.param("Scheduled", {"is_pending", "is_scheduled"}, id="Scheduled"),
        pytest.param("Retrying", {"is_pending", "is_scheduled", "is_retrying"}, id="Retrying"),
        pytest.param("Paused", {"is_pending", "is_scheduled", "is_paused"}, id="Paused"),
        pytest.param("Submitted", {"is_pending", "is_submitted"}, id="Submitted"),
        pytest.param("Running", {"is_running"}, id="Running"),
        pytest.param("Success", {"is_finished", "is_successful"}, id="Success"),
        pytest.param("Cached", {"is_finished", "is_successful", "is_cached"}, id="Cached"),
        pytest.param("Mapped", {"is_finished", "is_successful", "is_mapped"}, id="Mapped"),
        pytest.param("Skipped", {"is_finished", "is_successful", "is_skipped"}, id="Skipped"),
        pytest.param("Failed", {"is_finished", "is_failed"}, id="Failed"),
        pytest.param("TriggerFailed", {"is_finished", "is_failed"}, id="TriggerFailed"),
        pytest.param("TimedOut", {"is_finished", "is_failed", "is_timed_out"}, id="TimedOut"),
        pytest.param("Crashed", {"is_finished", "is_failed", "is_crashed"}, id="Crashed"),
        pytest.param("Cancelled", {"is_finished", "is_cancelled"}, id="Cancelled"),
    ],
)
def test_predicates_follow_the_tree(name, true_predicates) -> None:
    state = state_from_name(name, "msg")
    assert {p for p in PREDICATES if getattr(state, p)()} == true_predicates
    assert state.name == name


def test_state_from_unknown_name() -> None:
    with pytest.raises(ValueError, match="unknown state 'Done'"):
        state_from_name("Done")


def test_states_pickle_with_their_fields() -> None:
    state = TimedOut("too slow", result=[1, 2], traceback="tb", run_count=3)
    state.map_states = [Success(result=1)]
    state.cached_inputs = {"expires": 1.0}
    copy = pickle.loads(pickle.dumps(state))
    assert type(copy) is TimedOut
    assert (copy.message, copy.result, copy.traceback, copy.run_count) == (
        "too slow", [1, 2], "tb", 3)
    assert copy.map_states[0].result == 1
    assert copy.cached_inputs == {"expires": 1.0}
    assert copy.timestamp == state.timestamp


def test_without_result_drops_the_data_but_not_the_kind() -> None:
    state = Mapped("m", result=[1, 2])
    state.map_states = [Success(result=1), Success(result=2)]
    light = state.without_result()
    assert type(light) is Mapped
    assert (light.result, light.map_states, light.message) == (None, None, "m")
    assert state.result == [1, 2]  # the original is untouched


def test_every_state_class_is_known_by_name() -> None:
    classes = {c for c in vars(states).values()
               if isinstance(c, type) and issubclass(c, states.State)}
    assert set(states.ALL_STATES.values()) == classes - {states.State}


# ------------------------------------------------------------------------- signals


@pytest.mark.parametrize(
    ("kind", "state_type", "result", "attempts"),
    [
        # FAIL ends the run even though retries are left
        pytest.param("FAIL", Failed, None, 1, id="FAIL"),
        pytest.param("SKIP", Skipped, None, 1, id="SKIP"),
        pytest.param("SUCCESS", Success, "early result", 1, id="SUCCESS"),
        # RETRY asks for a second attempt, which finishes normally
        pytest.param("RETRY", Success, "finished normally", 2, id="RETRY"),
        pytest.param("none", Success, "finished normally", 1, id="no-signal"),
    ],
)
def test_signals_choose_the_next_state(executor, log, kind, state_type, result,
                                       attempts) -> None:
    signalling = task(et.raise_signal, max_retries=2, retry_delay=0)
    with Flow("signals") as flow:
        t = signalling(log, kind)

    state = flow.run(executor=executor).result[t]
    assert type(state) is state_type
    if state_type is not Failed:
        assert state.result == result
    assert len(et.lines(log)) == attempts
    assert state.run_count == attempts


def test_fail_signal_keeps_its_message_and_traceback(executor, log) -> None:
    with Flow("fail-signal") as flow:
        t = task(et.raise_signal)(log, "FAIL")
    state = flow.run(executor=executor).result[t]
    assert state.message == "failed on purpose"
    assert "raise_signal" in state.traceback
    assert "task_runner.py" not in state.traceback


def test_retry_signal_works_beyond_max_retries(executor, log) -> None:
    with Flow("retry-signal") as flow:
        t = task(et.raise_signal, max_retries=0)(log, "RETRY")
    state = flow.run(executor=executor).result[t]
    assert state.is_successful()
    assert et.lines(log) == ["RETRY", "RETRY"]


# ----------------------------------------------------------------- skip propagation


@pytest.mark.parametrize(
    ("skip_on_upstream_skip", "downstream_state", "grandchild_state"),
    [
        pytest.param(True, Skipped, Skipped, id="skips-propagate"),
        pytest.param(False, Success, Success, id="skip_on_upstream_skip=False-runs"),
    ],
)
def test_skip_propagation(executor, log, skip_on_upstream_skip, downstream_state,
                          grandchild_state) -> None:
    with Flow("skips") as flow:
        skipper = task(et.succeed_or_fail)("skip")
        child = task(et.ran, skip_on_upstream_skip=skip_on_upstream_skip)(
            log, upstream_tasks=[skipper])
        grandchild = task(et.ran)(log, upstream_tasks=[child])
        unrelated = task(et.succeed_or_fail)("ok")

    state = flow.run(executor=executor)
    assert state.is_successful()  # a skip is not a failure
    assert type(state.result[skipper]) is Skipped
    assert type(state.result[child]) is downstream_state
    assert type(state.result[grandchild]) is grandchild_state
    assert state.result[unrelated].result == "ok"
    assert len(et.lines(log)) == (0 if skip_on_upstream_skip else 2)


def test_skip_beats_a_trigger_that_would_fail(executor, log) -> None:
    from jupyter_flows import triggers

    with Flow("skip-vs-trigger") as flow:
        skipper = task(et.succeed_or_fail)("skip")
        failer = task(et.succeed_or_fail)("fail")
        t = task(et.ran, trigger=triggers.all_successful)(log, upstream_tasks=[skipper, failer])

    assert type(flow.run(executor=executor).result[t]) is Skipped


# ---------------------------------------------------------- failures and tracebacks


def test_user_exception_keeps_its_traceback_without_engine_frames(executor) -> None:
    with Flow("traceback") as flow:
        t = task(et.load_rows_from_user_code)("a,b")
        downstream = task(et.inc)(t)

    state = flow.run(executor=executor)
    failed = state.result[t]
    assert state.is_failed()
    assert type(failed) is Failed
    assert failed.message == "UserError: cannot parse row 'a,b'"
    assert isinstance(failed.result, et.UserError)
    tb = failed.traceback
    assert tb.splitlines()[0] == "Traceback (most recent call last):"
    assert "in load_rows_from_user_code" in tb
    assert "in _parse_row" in tb
    assert "engine_tasks.py" in tb
    assert "task_runner.py" not in tb
    assert "jupyter_flows" not in tb
    assert type(state.result[downstream]) is TriggerFailed


def test_traceback_is_clean_with_a_timeout_too(executor) -> None:
    with Flow("traceback-timeout") as flow:
        t = task(et.load_rows_from_user_code, timeout=30)()
    tb = flow.run(executor=executor).result[t].traceback
    assert "in _parse_row" in tb
    assert "jupyter_flows" not in tb


def test_unpicklable_exception_still_reports(executor, executor_kind) -> None:
    with Flow("unpicklable") as flow:
        t = task(et.raise_unpicklable)()
    state = flow.run(executor=executor).result[t]
    assert type(state) is Failed
    assert state.message == "UnpicklableError: holds a lock"
    assert "in raise_unpicklable" in state.traceback
    if executor_kind in ("local", "threads"):
        assert isinstance(state.result, et.UnpicklableError)
    else:  # crossed a process boundary: replaced by a picklable stand-in with the same text
        assert isinstance(state.result, RuntimeError)
        assert str(state.result) == "UnpicklableError: holds a lock"


def test_trigger_failed_names_the_upstream_states(executor) -> None:
    with Flow("trigger-message") as flow:
        bad = task(et.boom)(task_args={"slug": "bad"})
        t = task(et.inc)(bad)
    state = flow.run(executor=executor).result[t]
    assert type(state) is TriggerFailed
    assert "all_successful" in state.message
    assert "bad=Failed" in state.message


# ------------------------------------------------------------------ state handlers


@pytest.mark.parametrize(
    ("make_task", "transitions"),
    [
        pytest.param(lambda h, log: task(et.inc, state_handlers=[h])(1),
                     ["None->Running", "Running->Success"], id="success"),
        pytest.param(lambda h, log: task(et.boom, state_handlers=[h])(),
                     ["None->Running", "Running->Failed"], id="failure"),
        pytest.param(lambda h, log: task(et.run_count_until, state_handlers=[h],
                                         max_retries=1)(log + ".attempts", 2),
                     ["None->Running", "Running->Retrying", "Retrying->Running",
                      "Running->Success"], id="retry"),
        pytest.param(lambda h, log: task(et.inc, state_handlers=[h])(task(et.boom)()),
                     ["None->TriggerFailed"], id="trigger-failed"),
    ],
)
def test_task_state_handlers_see_each_transition(executor, log, make_task,
                                                 transitions) -> None:
    with Flow("handlers") as flow:
        make_task(functools.partial(et.record_transition, log), log)
    flow.run(executor=executor)
    assert et.lines(log) == transitions


@pytest.mark.parametrize(
    ("on_state", "failures", "attempts"),
    [
        pytest.param("Running", 0, 0, id="on-Running-the-function-never-runs"),
        pytest.param("Success", 0, 1, id="on-Success"),
        pytest.param("Retrying", 1, 1, id="on-Retrying-no-more-attempts"),
    ],
)
def test_state_handler_error_fails_the_task_not_the_run(executor, log, on_state, failures,
                                                        attempts) -> None:
    with Flow("handler-error") as flow:
        t = task(et.flaky, max_retries=1,
                 state_handlers=[et.failing_handler(on_state)])(log, failures)
        after = task(et.inc)(t)
        independent = task(et.inc)(1)

    state = flow.run(executor=executor)
    final = state.result[t]
    assert type(final) is Failed
    assert final.message == (
        f"state handler fail_on_{on_state.lower()} raised UserError: cannot handle {on_state}")
    assert "in handler" in final.traceback
    assert len(et.lines(log)) == attempts
    assert type(state.result[after]) is TriggerFailed
    assert state.result[independent].result == 2
    assert state.is_failed()


def test_flow_state_handlers_run_in_the_driver(executor) -> None:
    seen = []

    def handler(flow, old, new):
        seen.append((flow.name, old.name if old else None, new.name))
        if new.is_failed():
            return Success("forgiven")
        return None

    with Flow("flow-handlers", state_handlers=[handler]) as flow:
        task(et.boom)()
    state = flow.run(executor=executor)
    assert seen == [("flow-handlers", None, "Running"), ("flow-handlers", "Running", "Failed")]
    assert state.name == "Success"
    assert state.message == "forgiven"


class RecordingObserver(RunObserver):
    def __init__(self) -> None:
        self.finished: list = []

    def run_finished(self, flow, state) -> None:
        self.finished.append(state)


@pytest.mark.parametrize(("on_state", "ran"), [
    pytest.param("Success", ["1+2"], id="on-the-final-state"),
    pytest.param("Running", [], id="on-Running-no-task-runs"),
])
def test_a_flow_state_handler_error_fails_the_run_naming_it(executor, log, on_state,
                                                             ran) -> None:
    later = []
    observer = RecordingObserver()
    with Flow("flow-handler-error",
              state_handlers=[et.failing_handler(on_state),
                              lambda flow, old, new: later.append(new.name)]) as flow:
        t = task(et.noted_add)(log, 1, 2)
    state = flow.run(executor=executor, observers=[observer])  # returns: nothing escapes
    assert type(state) is Failed
    assert state.message == (f"flow state handler fail_on_{on_state.lower()} raised "
                             f"UserError: cannot handle {on_state} (on {on_state})")
    assert "in handler" in state.traceback and "raise UserError" in state.traceback
    assert et.lines(log) == ran
    assert later == ([] if on_state == "Running" else ["Running"])  # the next handler: not
    if ran:
        assert state.result[t].result == 3  # the task states are kept
    assert observer.finished == [state]
