"""Observers and logging: the events a run reports on every executor, task loggers and
``log_stdout``, ``get_run_context()`` inside a task, and ``task_run_name``."""

from __future__ import annotations

import logging
import threading
from collections import defaultdict

import engine_tasks as et
import pytest

from jupyter_flows import Flow, Parameter, RunObserver, get_logger, get_run_context, task


class Recorder(RunObserver):
    """Keeps every event, in arrival order (events may come from other threads)."""

    def __init__(self) -> None:
        self.events: list[tuple] = []
        self._lock = threading.Lock()

    def run_started(self, flow, parameters, flow_run_id) -> None:
        with self._lock:
            self.events.append(("run_started", flow.name, dict(parameters), flow_run_id))

    def task_state_changed(self, task, map_index, state) -> None:
        with self._lock:
            self.events.append(("task", task.slug, map_index, state.name))

    def run_finished(self, flow, state) -> None:
        with self._lock:
            self.events.append(("run_finished", flow.name, state.name))

    def per_run(self) -> dict[tuple, list[str]]:
        runs: dict[tuple, list[str]] = defaultdict(list)
        for event in self.events:
            if event[0] == "task":
                runs[event[1], event[2]].append(event[3])
        return dict(runs)


def test_observers_see_every_task_run_on_every_executor(executor) -> None:
    recorder = Recorder()
    with Flow("observed") as flow:
        n = Parameter("n", default=2)
        items = task(et.make_list)(n)
        mapped = task(et.inc).map(items)
        task(et.total)(mapped)

    state = flow.run(executor=executor, observers=[recorder])
    assert state.is_successful()

    first, last = recorder.events[0], recorder.events[-1]
    assert first == ("run_started", "observed", {"n": 2}, state.context["flow_run_id"])
    assert last == ("run_finished", "observed", "Success")
    runs = recorder.per_run()
    for key in [("make_list-1", None), ("inc-1", 0), ("inc-1", 1), ("total-1", None)]:
        assert runs[key] == ["Running", "Success"], key
    assert runs[("inc-1", None)] == ["Mapped"]
    assert runs[("n", None)] == ["Success"]  # parameters do not run anything
    assert set(runs) == {("n", None), ("make_list-1", None), ("inc-1", 0), ("inc-1", 1),
                         ("inc-1", None), ("total-1", None)}


def test_observers_see_failures_and_trigger_failures(executor) -> None:
    recorder = Recorder()
    with Flow("observed-failure") as flow:
        bad = task(et.boom)()
        task(et.inc)(bad)
    flow.run(executor=executor, observers=[recorder])
    runs = recorder.per_run()
    assert runs[("boom-1", None)] == ["Running", "Failed"]
    assert runs[("inc-1", None)] == ["TriggerFailed"]  # never ran
    assert recorder.events[-1] == ("run_finished", "observed-failure", "Failed")


def test_a_failing_observer_is_logged_not_raised(executor, caplog) -> None:
    class Broken(RunObserver):
        def task_state_changed(self, task, map_index, state) -> None:
            raise RuntimeError("observer bug")

    recorder = Recorder()
    with Flow("broken-observer") as flow:
        t = task(et.inc)(1)
    with caplog.at_level(logging.ERROR, logger="jupyter_flows"):
        state = flow.run(executor=executor, observers=[Broken(), recorder])
    assert state.result[t].result == 2
    assert recorder.per_run()[("inc-1", None)] == ["Running", "Success"]
    assert any("failed in task_state_changed" in r.getMessage() for r in caplog.records)


# ------------------------------------------------------------------------- logging


def _task_records(caplog, slug):
    return [r for r in caplog.records if getattr(r, "task_slug", None) == slug]


def test_log_stdout_turns_prints_into_task_log_records(in_process_executor, caplog,
                                                       capsys) -> None:
    with Flow("prints") as flow:
        loud = task(et.noisy, log_stdout=True)("world")
        quiet = task(et.noisy)("there")
    with caplog.at_level(logging.INFO, logger="jupyter_flows.task"):
        state = flow.run(executor=in_process_executor)
    assert state.is_successful()

    records = _task_records(caplog, loud.slug)
    assert [r.getMessage() for r in records] == ["hello world", "second line"]
    assert {(r.task_name, r.map_index, r.flow_name) for r in records} == {
        ("noisy", None, "prints")}
    assert records[0].flow_run_id == state.context["flow_run_id"]
    assert _task_records(caplog, quiet.slug) == []
    out = capsys.readouterr().out
    assert "hello there" in out  # without log_stdout a print stays a print
    assert "hello world" not in out


def test_log_stdout_in_map_children_keeps_their_index(in_process_executor, caplog) -> None:
    with Flow("mapped-prints") as flow:
        loud = task(et.noisy, log_stdout=True).map(["a", "b", "c"])
    with caplog.at_level(logging.INFO, logger="jupyter_flows.task"):
        flow.run(executor=in_process_executor)
    hellos = {(r.map_index, r.getMessage()) for r in _task_records(caplog, loud.slug)
              if r.getMessage().startswith("hello")}
    assert hellos == {(0, "hello a"), (1, "hello b"), (2, "hello c")}


def test_get_logger_inside_a_task_is_the_task_logger(in_process_executor, caplog) -> None:
    with Flow("get-logger") as flow:
        t = task(et.log_through_get_logger)("hi")
    with caplog.at_level(logging.INFO, logger="jupyter_flows"):
        flow.run(executor=in_process_executor)
    (record,) = _task_records(caplog, t.slug)
    assert record.getMessage() == "task says hi"
    assert record.levelname == "WARNING"
    assert get_logger().name == "jupyter_flows"  # outside a task


def test_task_failure_is_logged_with_the_user_traceback(in_process_executor, caplog) -> None:
    with Flow("logged-failure") as flow:
        t = task(et.load_rows_from_user_code)()
    with caplog.at_level(logging.INFO, logger="jupyter_flows"):
        flow.run(executor=in_process_executor)
    (error,) = [r for r in _task_records(caplog, t.slug) if r.levelname == "ERROR"]
    assert "UserError: cannot parse row 'x,y'" in error.getMessage()
    assert "in _parse_row" in error.getMessage()
    assert "task_runner.py" not in error.getMessage()


# --------------------------------------------------------- run context, run names


def test_get_run_context_inside_a_task(executor) -> None:
    with Flow("context") as flow:
        p = Parameter("p", default="value")
        facts = task(et.run_facts, task_run_name="facts-{x}")(p)
    state = flow.run(executor=executor)
    assert state.result[facts].result == {
        "flow_name": "context", "flow_run_id": state.context["flow_run_id"],
        "task_name": "run_facts", "task_slug": "run_facts-1", "map_index": None,
        "task_run_name": "facts-value", "run_count": 1, "parameters": {"p": "value"},
    }


def test_get_run_context_outside_a_task() -> None:
    assert get_run_context() is None


def test_flow_run_id_can_be_given(executor) -> None:
    with Flow("given-id") as flow:
        facts = task(et.run_facts)()
    state = flow.run(executor=executor, flow_run_id="run-42")
    assert state.result[facts].result["flow_run_id"] == "run-42"
    assert state.context["flow_run_id"] == "run-42"


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        pytest.param("double {x}", ["double 1", "double 2"], id="format-string"),
        pytest.param(et.describe_run, ["item #1", "item #2"], id="callable"),
        pytest.param("{missing}", [None, None], id="bad-template-is-no-name"),
    ],
)
def test_task_run_name(executor, template, expected) -> None:
    with Flow("run-names") as flow:
        mapped = task(et.double, task_run_name=template).map([1, 2])
        single = task(et.double, task_run_name=template)(1)
    state = flow.run(executor=executor)
    assert state.result[mapped].result == [2, 4]
    names = [(c.context or {}).get("task_run_name") for c in state.result[mapped].map_states]
    assert names == expected
    assert (state.result[single].context or {}).get("task_run_name") == expected[0]


def test_task_logs_reach_the_driver_on_every_executor(executor, caplog) -> None:
    """Records logged in worker processes (process pools, Dask workers) are re-emitted in
    the driver, with the task's fields, so notebooks and the backend reporter see them."""
    with Flow("remote-logs") as flow:
        loud = task(et.noisy, log_stdout=True).map(["a", "b"])
        said = task(et.log_through_get_logger)("hi")
    with caplog.at_level(logging.INFO, logger="jupyter_flows"):
        state = flow.run(executor=executor)
    assert state.is_successful()
    hellos = {(r.map_index, r.getMessage()) for r in _task_records(caplog, loud.slug)
              if r.getMessage().startswith("hello")}
    assert hellos == {(0, "hello a"), (1, "hello b")}
    (record,) = _task_records(caplog, said.slug)
    assert (record.getMessage(), record.levelname) == ("task says hi", "WARNING")
    assert record.flow_run_id == state.context["flow_run_id"]
