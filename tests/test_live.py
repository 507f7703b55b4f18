"""The live run view: what it rendered while real flows ran (in order, throttled, final),
its display updated in place in a real IPython shell, the text picture without graphviz's
``dot``, and a backend run watched to its end."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import graphviz
import pytest

from jupyter_flows import Flow, Local, LocalDaskExecutor, LocalExecutor, Parameter, task
from jupyter_flows.api.flow_spec import flow_from_spec, flow_spec
from jupyter_flows.client.client import Client
from jupyter_flows.engine.states import State
from jupyter_flows.server.testing import running_server
from jupyter_flows.widgets.dag import INSTALL_DOT, DagView
from jupyter_flows.widgets.live import LiveRunView, Snapshot, watch_backend_run


@task
def numbers(n: int) -> list[int]:
    return list(range(n))


@task
def inc(x: int) -> int:
    return x + 1


@task
def slow_inc(x: int) -> int:
    time.sleep(0.01)
    return x + 1


@task
def total(xs: list[int]) -> int:
    return sum(xs)


@task
def explode(x: int) -> int:
    raise ValueError(f"the source table is empty ({x})")


@task
def pause(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


def failing_flow() -> Flow:
    with Flow("live") as flow:
        items = numbers(Parameter("n", default=3))
        total(inc.map(items))
        explode(total(items))
    return flow


EXECUTORS = [pytest.param(LocalExecutor(), id="local"),
             pytest.param(LocalDaskExecutor(scheduler="threads", num_workers=4), id="threads")]


def sequences(history: list[Snapshot]) -> dict[str, list[str]]:
    """Each task's states across the renders, repeats collapsed."""
    seen: dict[str, list[str]] = {}
    for snapshot in history:
        for slug, name in snapshot.states.items():
            names = seen.setdefault(slug, [])
            if not names or names[-1] != name:
                names.append(name)
    return seen


def task_states(state: State) -> dict[str, str]:
    return {task.slug: s.name for task, s in state.result.items()}


@pytest.mark.parametrize("executor", EXECUTORS)
def test_every_state_change_is_rendered_in_order(executor: Any) -> None:
    flow = failing_flow()
    view = LiveRunView(flow, throttle=0)  # a render per event
    state = flow.run(executor=executor, observers=[view])
    assert state.is_failed()

    first, last = view.history[0], view.history[-1]
    assert first.states == {} and first.status == "Running" and not first.final
    assert first.counts == {"Pending": len(flow.tasks)}
    assert len(view.history) == view.events + 2  # started, one per event, final
    for slug, names in sequences(view.history).items():
        final = task_states(state)[slug]
        if slug == "n" or final in ("Mapped", "TriggerFailed"):
            assert names == [final], slug  # nothing ran: no Running
        else:
            assert names == ["Running", final], slug
    assert last.final and last.status == "Failed"
    assert last.states == task_states(state)
    assert last.children == {"inc-1": {"Success": 3}}
    assert sum(last.counts.values()) == len(flow.tasks) + 3
    assert last.errors == [("explode-1", "ValueError: the source table is empty (3)")]
    assert last.elapsed is not None and 0 < last.elapsed < 30

    bundle = view.mimebundle()
    assert "explode-1: ValueError: the source table is empty (3)" in bundle["text/plain"]
    assert "the source table is empty (3)" in bundle["text/html"]
    assert bundle["text/html"].count("<svg") == 1
    assert "inc-1 children: Success: 3" in bundle["text/plain"]


@pytest.mark.parametrize("executor", EXECUTORS)
def test_map_children_are_counted_per_state(executor: Any) -> None:
    @task
    def odd_fails(x: int) -> int:
        if x % 2:
            raise ValueError(f"odd {x}")
        return x

    with Flow("halves") as flow:
        odd_fails.map(numbers(6))
    view = LiveRunView(flow, throttle=0)
    flow.run(executor=executor, observers=[view])
    last = view.history[-1]
    assert last.children == {"odd_fails-1": {"Success": 3, "Failed": 3}}
    assert last.errors == [(f"odd_fails-1[{i}]", f"ValueError: odd {i}") for i in (1, 3, 5)]
    # the SVG node of the mapped task carries its children's counts
    svg = view.mimebundle()["text/html"]
    assert "3 Failed, 3 Success" in svg


class Overlaps(LiveRunView):
    """Counts pictures being drawn at the same time (there must never be two)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.active = 0
        self.most = 0
        self.threads: set[str] = set()
        self._count = threading.Lock()

    def mimebundle(self) -> dict[str, str]:
        with self._count:
            self.active += 1
            self.most = max(self.most, self.active)
            self.threads.add(threading.current_thread().name)
        try:
            time.sleep(0.005)  # widen the window a second render could slip into
            return super().mimebundle()
        finally:
            with self._count:
                self.active -= 1


def test_renders_are_throttled_and_the_last_one_is_final() -> None:
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    InteractiveShell.instance()
    with Flow("wide") as flow:
        total(slow_inc.map(numbers(200)))
    view = Overlaps(flow, throttle=0.1)
    with capture_output() as captured:
        view.display()
        state = flow.run(executor=LocalDaskExecutor(scheduler="threads", num_workers=4),
                         observers=[view])
    assert state.is_successful()

    assert view.events >= 400  # each child: Running and Success
    assert 3 <= len(view.history) < view.events / 10
    assert len(captured.outputs) == len(view.history)
    # drawn from worker threads, the timer thread and this one, but never two at once
    assert view.most == 1 and len(view.threads) > 1
    last = view.history[-1]
    assert last.final and [s.final for s in view.history].count(True) == 1
    assert last.children == {"slow_inc-1": {"Success": 200}}
    assert last.states == task_states(state)
    assert "200 Success" in captured.outputs[-1].data["text/html"]
    # between renders at least `throttle` passes (the final one comes when the run ends)
    gaps = [b.at - a.at for a, b in zip(view.history[1:-1], view.history[2:-1])]
    assert all(gap >= 0.1 * 0.95 for gap in gaps), gaps
    # and the picture moved while the run went
    assert any(0 < sum(s.children.get("slow_inc-1", {}).values()) < 200
               or s.children.get("slow_inc-1", {}).get("Running")
               for s in view.history[1:-1])


def test_a_quiet_spell_still_gets_its_render() -> None:
    # the first task's Running arrives inside the throttle window after run_started, and
    # then nothing happens for a while: the trailing render must show it running anyway
    with Flow("quiet") as flow:
        pause(0.6)
    view = LiveRunView(flow, throttle=0.2)
    flow.run(observers=[view])
    during = [s for s in view.history if not s.final]
    assert any(s.states.get("pause-1") == "Running" for s in during)
    assert view.history[-1].states == {"pause-1": "Success"}


def test_text_picture_when_dot_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_dot(self: DagView) -> str | None:
        raise graphviz.ExecutableNotFound(("dot", "-Tsvg"))

    monkeypatch.setattr(DagView, "svg", no_dot)
    flow = failing_flow()
    view = LiveRunView(flow, throttle=0)
    flow.run(observers=[view])
    bundle = view.mimebundle()
    assert "<svg" not in bundle["text/html"]
    assert "<pre>flow &#x27;live&#x27;\n  n [Success]" in bundle["text/html"]
    assert "inc-1 [Mapped] &lt;- map numbers-1 as x" in bundle["text/html"]
    assert "inc-1 children: Success: 3" in bundle["text/html"]
    assert "apt-get install graphviz" in bundle["text/html"]
    assert bundle["text/plain"].endswith(f"({INSTALL_DOT})")
    assert "explode-1: ValueError" in bundle["text/plain"]


def test_a_finished_state_renders_the_picture_visualize_draws() -> None:
    flow = failing_flow()
    state = flow.run()
    view = LiveRunView(flow).show(state)
    assert view.history[-1].states == task_states(state)
    assert view.history[-1].final and view.history[-1].status == "Failed"
    assert view.dag_view().svg() == flow.visualize(flow_state=state).svg()
    svg = flow.visualize(flow_state=state).svg()
    assert svg is not None and svg[svg.find("<svg"):] in view.mimebundle()["text/html"]


def test_display_updates_in_place_in_an_ipython_shell() -> None:
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    InteractiveShell.instance()
    flow = failing_flow()
    with capture_output() as captured:
        view = LiveRunView(flow, throttle=0).display()
        flow.run(observers=[view])
    first, *updates = captured.outputs
    display_id = first.transient["display_id"]
    assert display_id and not first.update
    # display() showed the first snapshot (nothing ran yet); every later one is an update
    assert len(captured.outputs) == len(view.history)
    assert "flow 'live': not started" in first.data["text/plain"]
    assert all(o.update and o.transient["display_id"] == display_id for o in updates)
    raw = [first, *updates]
    assert "flow 'live': Failed" in raw[-1].data["text/plain"]
    assert "<svg" in raw[-1].data["text/html"]


def test_spec_flows_draw_the_registered_dag() -> None:
    flow = failing_flow()
    rebuilt = flow_from_spec(flow_spec(flow))
    assert flow_spec(rebuilt).edges == flow_spec(flow).edges
    assert [t.slug for t in rebuilt.sorted_tasks()] == [t.slug for t in flow.sorted_tasks()]
    assert DagView(rebuilt).text() == DagView(flow).text()


# ----------------------------------------------------------------------- backend runs
@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("backend") / "backend.db") as url:
        yield url


@pytest.fixture
def quiet_package_logger() -> Iterator[None]:
    # execute_flow_run raises the package logger to INFO for the run's log records
    logger = logging.getLogger("jupyter_flows")
    level = logger.level
    yield
    logger.setLevel(level)


def test_watching_a_backend_run_to_its_end(backend: str, tmp_path: Path,
                                           quiet_package_logger: None) -> None:
    from jupyter_flows.flow_run.execute import execute_flow_run

    client = Client(backend)
    with Flow("watched", storage=Local(directory=str(tmp_path))) as flow:
        waited = pause(1.5)  # long enough for a poll to see it Running on a busy machine
        explode(total(inc.map(numbers(3, upstream_tasks=[waited]))))
    record = flow.register(client=client)
    run = client.create_flow_run(record.id)

    early = watch_backend_run(client, run.id, until_finished=False, display=False)
    assert early.history[-1].status == "Scheduled" and not early.history[-1].final

    # what an agent does: claim the run, then execute it (here in a thread of this process)
    agent = client.register_agent("watch-agent", "local", [])
    claim = client.claim(agent.id)
    assert claim is not None and claim.flow_run.id == run.id
    worker = threading.Thread(target=execute_flow_run,
                              args=(run.id, Client(backend), claim.lease.lease_id))
    worker.start()
    try:
        view = watch_backend_run(client, run.id, timeout=20, display=False)
    finally:
        worker.join(20)

    last = view.history[-1]
    assert last.final and last.status == "Failed"
    backend_states = {t.task_slug: t.state for t in client.get_task_runs(run.id)
                      if t.map_index is None}
    assert last.states == backend_states
    assert last.children == {"inc-1": {"Success": 3}}
    assert last.errors == [("explode-1", "ValueError: the source table is empty (6)")]
    assert last.elapsed is not None and last.elapsed >= 1.5
    # it followed the run as it went: the paused task was seen running
    assert any(s.states.get("pause-1") == "Running" for s in view.history if not s.final)
    assert Counter(s.final for s in view.history)[True] == 1
