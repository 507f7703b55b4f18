"""One log string must not drop all of a run's logs (issue 11, item 4), through a real
uvicorn backend: a task logging a non-UTF-8 filename gets every record stored, the odd one
escaped; a record the backend refuses is replaced by a line saying so, the others kept; and
a fuzz of the log path with hostile strings never loses a record or gets a 5xx."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from wire import spec_json

from jupyter_flows import Flow, get_logger, task
from jupyter_flows.client.client import Client
from jupyter_flows.engine.flow_runner import run_flow
from jupyter_flows.flow_run.reporting import BackendReporter
from jupyter_flows.server.testing import RecordingTransport, running_server

ODD = b"caf\xe9".decode("utf-8", "surrogateescape")


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(tmp_path_factory.mktemp("logs") / "backend.db",
                        startup_timeout=120) as url:
        yield url


@pytest.fixture
def client(url: str) -> Iterator[Client]:
    with Client(url) as client:
        yield client


def record(message: str, **extra: object) -> logging.LogRecord:
    return logging.makeLogRecord({"name": "jupyter_flows.task", "msg": message, "levelno": 20,
                                  "levelname": "INFO", "args": (), **extra})


def new_run(client: Client) -> str:
    flow = client.register_flow("logs", spec_json("logs", ("a-1",)))
    return client.create_flow_run(flow.id).id


def test_a_task_logging_a_surrogateescape_filename_keeps_all_its_logs(client: Client) -> None:
    run_id = new_run(client)

    @task
    def chatty() -> int:
        log = get_logger()
        for n in range(3):
            log.info("line %d", n)
        log.info("opening %s", ODD)  # the filename as os.listdir gives it
        for n in range(3, 6):
            log.info("line %d", n)
        return 1

    with Flow("chatty") as flow:
        chatty()

    reporter = BackendReporter(client, run_id, lease_id=None, interval=0.05)
    package_logger = logging.getLogger("jupyter_flows")
    package_logger.addHandler(reporter)
    previous = package_logger.level
    package_logger.setLevel(logging.INFO)
    try:
        state = run_flow(flow, observers=[reporter], progress=False, flow_run_id=run_id)
    finally:
        package_logger.removeHandler(reporter)
        package_logger.setLevel(previous)
        reporter.close()
    assert state.is_successful()
    messages = [r.message for r in client.read_logs(run_id, limit=500).items]
    ours = [m for m in messages if "line" in m or "opening" in m]
    assert ours == ["line 0", "line 1", "line 2", "opening caf\\udce9", "line 3", "line 4",
                    "line 5"]


def test_a_refused_record_is_replaced_and_the_rest_of_the_batch_kept(client: Client) -> None:
    run_id = new_run(client)
    reporter = BackendReporter(client, run_id, lease_id=None, interval=3600)
    try:
        for n in range(3):
            reporter.handle(record(f"before {n}"))
        # a map index no database column holds: the backend (or the client model) refuses it
        reporter.handle(record("bad", map_index=2**64))
        for n in range(3):
            reporter.handle(record(f"after {n}"))
    finally:
        reporter.close()
    messages = [r.message for r in client.read_logs(run_id).items]
    assert messages[:3] == ["before 0", "before 1", "before 2"]
    assert messages[3].startswith("a log record was refused and left out:")
    assert "map_index" in messages[3]
    assert messages[4:] == ["after 0", "after 1", "after 2"]


HOSTILE = st.text(st.characters(codec=None, categories=None), max_size=40) | st.sampled_from(
    ["\ud800", "\udfff\ud800", "\x00", ODD, "\\udce9", "\u2028", "\U0010ffff", "%s %d",
     "\ufeff", "a" * 5000])


@settings(max_examples=60, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(messages=st.lists(HOSTILE, min_size=1, max_size=8),
       slug=st.none() | HOSTILE.filter(lambda s: 0 < len(s) <= 300))
def test_fuzz_hostile_log_strings_are_all_stored_and_never_5xx(url: str, messages: list[str],
                                                                slug: str | None) -> None:
    recorder = RecordingTransport()
    with Client(url, transport=recorder) as client:
        run_id = new_run(client)
        reporter = BackendReporter(client, run_id, lease_id=None, interval=3600)
        try:
            for message in messages:
                reporter.handle(record(message, task_slug=slug))
        finally:
            reporter.close()
        stored = client.read_logs(run_id, limit=500).items
    assert len(stored) == len(messages)
    assert not [s for s in recorder.statuses if s >= 500]
    for row, sent in zip(stored, messages):
        row.message.encode("utf-8")  # storable text, read back (raises if not)
        if "\x00" not in sent and all(not "\ud800" <= c <= "\udfff" for c in sent):
            assert row.message == sent  # good text is never altered
