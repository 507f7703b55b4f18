"""Retries (counts, delays, retry_on) and timeouts (a hung task ends TimedOut, the flow
finishes, retries apply) on every executor. Attempts are counted through files because a
task may run in another process."""

from __future__ import annotations

import itertools
import time
from datetime import timedelta

import engine_tasks as et
import pytest

from jupyter_flows import Flow, task
from jupyter_flows.engine.states import Failed, Success, TimedOut, TriggerFailed


@pytest.mark.parametrize(
    ("failures", "max_retries", "delay", "expected", "attempts"),
    [
        pytest.param(2, 2, 0.15, Success, 3, id="succeeds-on-last-retry"),
        pytest.param(3, 2, 0.05, Failed, 3, id="runs-out-of-retries"),
        pytest.param(1, 0, 0, Failed, 1, id="no-retries"),
        pytest.param(0, 3, 0, Success, 1, id="no-failure-no-retry"),
        pytest.param(1, 1, timedelta(milliseconds=100), Success, 2, id="timedelta-delay"),
    ],
)
def test_retries_with_delay(executor, log, failures, max_retries, delay, expected,
                            attempts) -> None:
    flaky = task(et.flaky, max_retries=max_retries, retry_delay=delay)
    with Flow("retries") as flow:
        t = flaky(log, failures)

    final = flow.run(executor=executor).result[t]
    assert type(final) is expected
    assert final.run_count == attempts
    starts = [float(line) for line in et.lines(log)]
    assert len(starts) == attempts
    seconds = delay.total_seconds() if isinstance(delay, timedelta) else delay
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(gap >= seconds for gap in gaps), gaps
    if expected is Success:
        assert final.result == attempts
    else:
        assert final.message == f"UserError: attempt {attempts}"


@pytest.mark.parametrize(
    ("retry_on", "raised", "attempts"),
    [
        pytest.param(KeyError, "UserError", 1, id="non-matching-does-not-retry"),
        pytest.param(KeyError, "KeyError", 2, id="matching-retries"),
        pytest.param([KeyError, ValueError], "UserError", 2, id="subclass-in-a-list-retries"),
        pytest.param(None, "KeyError", 2, id="default-retries-any-exception"),
    ],
)
def test_retry_on(executor, log, retry_on, raised, attempts) -> None:
    with Flow("retry-on") as flow:
        t = task(et.flaky, max_retries=3, retry_on=retry_on)(log, 1, raised)
    final = flow.run(executor=executor).result[t]
    assert len(et.lines(log)) == attempts
    assert final.is_successful() == (attempts == 2)


def test_run_context_counts_attempts(executor, log) -> None:
    with Flow("run-count") as flow:
        t = task(et.run_count_until, max_retries=2)(log, 3)
    final = flow.run(executor=executor).result[t]
    assert final.result == 3
    assert et.lines(log) == ["1", "2", "3"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        pytest.param({"max_retries": -1}, "max_retries must be >= 0", id="negative-retries"),
        pytest.param({"retry_delay": -1}, "retry_delay must not be negative", id="neg-delay"),
        pytest.param({"timeout": 0}, "timeout must be positive", id="zero-timeout"),
        pytest.param({"timeout": timedelta(seconds=-1)}, "timeout must not be negative",
                     id="negative-timeout"),
    ],
)
def test_invalid_retry_and_timeout_options(options, message) -> None:
    with pytest.raises(ValueError, match=f"task 'inc': {message}"):
        task(et.inc, **options)


# ------------------------------------------------------------------------ timeouts

HANG_SECONDS = 10.0


def test_hung_task_times_out_and_the_flow_finishes(executor, log) -> None:
    with Flow("timeout") as flow:
        hung = task(et.hang, timeout=0.5)(log, HANG_SECONDS)
        after = task(et.inc)(hung)
        independent = task(et.inc)(1)

    started = time.perf_counter()
    state = flow.run(executor=executor)
    elapsed = time.perf_counter() - started

    assert elapsed < HANG_SECONDS / 2  # the run did not wait for the hung call
    assert state.is_failed()
    final = state.result[hung]
    assert type(final) is TimedOut
    assert final.message == "task 'hang' timed out after 0.5 s"
    assert type(state.result[after]) is TriggerFailed
    assert state.result[independent].result == 2
    assert len(et.lines(log)) == 1


def test_retries_apply_to_timeouts(executor, log) -> None:
    with Flow("timeout-retries") as flow:
        hung = task(et.hang, timeout=0.3, max_retries=1, retry_on=KeyError)(log, HANG_SECONDS)

    started = time.perf_counter()
    final = flow.run(executor=executor).result[hung]
    assert time.perf_counter() - started < HANG_SECONDS / 2
    assert type(final) is TimedOut
    assert final.run_count == 2
    assert len(et.lines(log)) == 2  # retry_on filters exceptions, not timeouts


def test_fast_task_with_a_timeout_returns_its_result(executor) -> None:
    with Flow("in-time") as flow:
        t = task(et.add, timeout=30)(2, 3)
    assert flow.run(executor=executor).result[t].result == 5
