"""Timeouts stop the task's code (Prefect 1.x ran timed tasks where they could be stopped):
a timed-out attempt is killed before its retry starts, on every executor, so no side effect
of it happens after its TimedOut state."""

from __future__ import annotations

import logging
import threading
import time

import compat_tasks as ct

from jupyter_flows import Flow, get_logger, task
from jupyter_flows.engine.states import Failed, Success, TimedOut


def test_a_timed_out_attempt_is_stopped_before_its_retry(executor, log) -> None:
    """With ``timeout=1, max_retries=1``, an attempt sleeping 1.5 s is stopped at 1 s: its
    retry runs alone, and the first attempt's side effect never happens."""
    with Flow("stopped") as flow:
        t = task(ct.sleep_then_note, timeout=1, max_retries=1)(log, 1.5, 0.0)
    final = flow.run(executor=executor).result[t]
    assert type(final) is Success and final.result == "attempt 2"
    time.sleep(1.0)  # past the moment the first attempt would have written
    assert ct.lines(log) == ["attempt 2"]


def test_every_attempt_timing_out_leaves_no_side_effect(executor, log) -> None:
    """When every attempt times out the task ends TimedOut and none of them wrote."""
    with Flow("all-time-out") as flow:
        t = task(ct.sleep_then_note, timeout=0.5, max_retries=1)(log, 1.2, 1.2)
    final = flow.run(executor=executor).result[t]
    assert type(final) is TimedOut and final.run_count == 2
    time.sleep(1.5)
    assert ct.lines(log) == []


def _hand_over_a_lock() -> threading.Lock:
    return threading.Lock()


def _use(lock: threading.Lock) -> str:
    return "used"


def test_inputs_that_cannot_travel_fail_with_the_reason(in_process_executor) -> None:
    """A timed attempt runs in a child process; an input that cannot be pickled there ends
    the task Failed (TaskIsolationError), without retries, naming the cause."""
    with Flow("cannot-travel") as flow:
        lock = task(_hand_over_a_lock)()
        used = task(_use, timeout=5, max_retries=2)(lock)
    final = flow.run(executor=in_process_executor).result[used]
    assert type(final) is Failed and final.run_count == 1
    assert "runs in a child process" in final.message
    assert "cannot pickle '_thread.lock' object" in final.message


def _logs_and_prints(word: str) -> str:
    get_logger().warning("logged %s", word)
    print(f"printed {word}")
    return word


def test_logs_and_prints_of_a_timed_task_reach_the_driver(in_process_executor,
                                                          caplog) -> None:
    """Records logged and lines printed (``log_stdout=True``) in the child come back as the
    task run's records."""
    with Flow("timed-logs") as flow:
        t = task(_logs_and_prints, timeout=10, log_stdout=True)("hi")
    with caplog.at_level(logging.INFO, logger="jupyter_flows.task"):
        assert flow.run(executor=in_process_executor).result[t].result == "hi"
    mine = [r for r in caplog.records if getattr(r, "task_slug", None) == t.slug]
    assert {r.getMessage() for r in mine} >= {"logged hi", "printed hi"}


def _fails_deep() -> None:
    def inner() -> None:
        raise KeyError("deep in user code")

    inner()


def test_a_timed_task_failure_keeps_its_traceback(executor) -> None:
    """The exception raised in the child is the task's result, and its traceback shows the
    user's frames (none of the engine's)."""
    with Flow("timed-failure") as flow:
        t = task(_fails_deep, timeout=10)()
    final = flow.run(executor=executor).result[t]
    assert type(final) is Failed and final.message == "KeyError: 'deep in user code'"
    assert isinstance(final.result, KeyError)
    assert "in inner" in (final.traceback or "") and "jupyter_flows" not in final.traceback


def test_a_timed_task_sees_its_run_context(executor, log) -> None:
    """``get_run_context()`` in the child has the run's facts (run_count on a retry)."""
    with Flow("timed-context") as flow:
        t = task(ct.sleep_then_note, timeout=0.6, max_retries=2)(log, 1.0, 0.0)
    assert flow.run(executor=executor).result[t].result == "attempt 2"
