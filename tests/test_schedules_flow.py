"""``Flow(schedule=...)``: it travels with the flow (copies, cloudpickle, the spec, the
backend), ``run()`` says it ignored it, and ``run(run_on_schedule=True)`` runs at each
time, driven here by a fake timer, and for real in a subprocess stopped with Ctrl-C."""

from __future__ import annotations

import copy
import itertools
import logging
import os
import signal
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import cloudpickle
import pytest

from jupyter_flows import Flow, Local, Parameter, task, unmapped
from jupyter_flows.api.flow_spec import flow_spec, spec_hash
from jupyter_flows.engine import on_schedule
from jupyter_flows.errors import ParameterError, ScheduleError
from jupyter_flows.schedules import (
    CronClock,
    DatesClock,
    IntervalClock,
    IntervalSchedule,
    Schedule,
    filters,
    schedule_from_config,
)

UTC = timezone.utc
BERLIN = ZoneInfo("Europe/Berlin")
TESTS_DIR = Path(__file__).resolve().parent

WEEKDAYS_AT_SIX = Schedule([CronClock("0 6 * * *", start_date=datetime(2026, 1, 1,
                                                                          tzinfo=BERLIN))],
                           filters=[filters.is_weekday])


@task
def add(x: int, y: int = 0) -> int:
    return x + y


def build(schedule: Any = None) -> Flow:
    with Flow("etl", schedule=schedule) as flow:
        n = Parameter("n", default=3)
        add.map([1, 2], y=unmapped(add(n)))
    return flow


# ------------------------------------------------------------------ travels with the flow
def test_schedule_is_a_flow_attribute_that_reads_configs() -> None:
    assert build().schedule is None
    flow = build(WEEKDAYS_AT_SIX)
    assert flow.schedule is WEEKDAYS_AT_SIX
    flow.schedule = WEEKDAYS_AT_SIX.model_dump(mode="json")  # type: ignore[assignment]
    assert flow.schedule == WEEKDAYS_AT_SIX
    flow.schedule = CronClock("0 7 * * *")  # type: ignore[assignment]  # a lone clock
    assert flow.schedule == Schedule([CronClock("0 7 * * *")])
    flow.schedule = None
    assert flow.schedule is None
    with pytest.raises(ScheduleError, match=r"Schedule\.clocks\[0\]\.cron: not a valid cron"):
        Flow("bad", schedule={"type": "schedule", "clocks": [{"type": "cron",
                                                                 "cron": "61 * * * *"}]})


def test_schedule_survives_copies_and_cloudpickle() -> None:
    flow = build(WEEKDAYS_AT_SIX)
    for twin in (copy.copy(flow), copy.deepcopy(flow), cloudpickle.loads(cloudpickle.dumps(flow))):
        assert twin.schedule == WEEKDAYS_AT_SIX
        assert twin.schedule.next(3, after=datetime(2026, 1, 2, tzinfo=UTC)) == [
            datetime(2026, 1, 2, 6, tzinfo=BERLIN), datetime(2026, 1, 5, 6, tzinfo=BERLIN),
            datetime(2026, 1, 6, 6, tzinfo=BERLIN)]


def test_schedule_survives_cloudpickle_into_another_process(tmp_path: Path) -> None:
    import engine_tasks

    with Flow("elsewhere", schedule=WEEKDAYS_AT_SIX) as flow:
        engine_tasks.inc(1)
    (tmp_path / "flow.pkl").write_bytes(cloudpickle.dumps(flow))
    code = (
        "import sys, cloudpickle\n"
        "from datetime import datetime, timezone\n"
        "flow = cloudpickle.loads(open(sys.argv[1], 'rb').read())\n"
        "after = datetime(2026, 1, 2, tzinfo=timezone.utc)\n"
        "print(flow.schedule.describe())\n"
        "print(' '.join(t.isoformat() for t in flow.schedule.next(2, after=after)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "flow.pkl")],
                         capture_output=True, text=True, check=True, env=os.environ)
    assert out.stdout.splitlines() == [
        "every day at 06:00 Europe/Berlin, only on weekdays",
        "2026-01-02T06:00:00+01:00 2026-01-05T06:00:00+01:00"]


def test_flows_pickled_before_schedules_existed_have_none() -> None:
    flow = build()
    del flow.__dict__["_schedule"]  # what unpickling an older flow gives
    assert flow.schedule is None and "schedule" not in flow_spec(flow).as_json()


def test_spec_carries_the_schedule_and_keeps_old_hashes() -> None:
    plain = flow_spec(build()).as_json()
    assert "schedule" not in plain
    # the hash this flow's spec had before schedules existed (computed on that commit)
    assert spec_hash(plain) == "41a8d314fbef554f492d03e5b1204f06b71dfa7e241e2ce7812bdf4d1be28089"

    spec = flow_spec(build(WEEKDAYS_AT_SIX)).as_json()
    assert spec["schedule"] == WEEKDAYS_AT_SIX.model_dump(mode="json")
    assert {k: v for k, v in spec.items() if k != "schedule"} == plain
    assert schedule_from_config(spec["schedule"]) == WEEKDAYS_AT_SIX
    assert spec_hash(spec) != spec_hash(plain)
    assert spec_hash(flow_spec(build(WEEKDAYS_AT_SIX))) == spec_hash(spec)  # deterministic


@pytest.mark.slow
def test_the_backend_stores_the_schedule_with_the_flow(tmp_path: Path) -> None:
    from jupyter_flows.client import Client
    from jupyter_flows.server.testing import running_server

    with running_server(tmp_path / "backend.db") as url, Client(url) as client:
        flow = build(WEEKDAYS_AT_SIX)
        flow.storage = Local(directory=str(tmp_path / "flows"))
        first = flow.register(client=client)
        stored = client.get_flow(first.id)
        assert stored.spec.schedule == WEEKDAYS_AT_SIX
        assert not flow.register(client=client).is_new  # same schedule, same version
        flow.schedule = IntervalSchedule(interval=timedelta(hours=1))
        changed = flow.register(client=client)
        assert changed.is_new and changed.version == first.version + 1
        loaded = Local(directory=str(tmp_path / "flows")).get_flow(
            stored.storage["location"])
        assert loaded.schedule == WEEKDAYS_AT_SIX


# ---------------------------------------------------------------- run() ignores it, and says
def test_run_runs_once_now_and_says_it_ignored_the_schedule(caplog: pytest.LogCaptureFixture
                                                             ) -> None:
    flow = build(WEEKDAYS_AT_SIX)
    with caplog.at_level(logging.INFO, logger="jupyter_flows"):
        state = flow.run(parameters={"n": 10}, progress=False)
    assert state.is_successful()
    notes = [r for r in caplog.records if r.name == "jupyter_flows.schedule"]
    assert len(notes) == 1 and notes[0].levelno == logging.WARNING
    assert notes[0].getMessage() == (
        "flow 'etl' has a schedule (every day at 06:00 Europe/Berlin, only on weekdays); "
        "flow.run() runs it once, now. To run it at each scheduled time in this process, "
        "call flow.run(run_on_schedule=True)")


def test_run_without_a_schedule_says_nothing(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="jupyter_flows"):
        assert build().run(progress=False).is_successful()
    assert not [r for r in caplog.records if r.name == "jupyter_flows.schedule"]


# ------------------------------------------------------------------- run_on_schedule=True
class FakeTimer:
    """A clock that only moves when slept on (or told to), recording every sleep."""

    def __init__(self, start: datetime, interrupt_on_sleep: int | None = None) -> None:
        self.current = start
        self.sleeps: list[float] = []
        self.interrupt_on_sleep = interrupt_on_sleep

    def now(self) -> datetime:
        return self.current

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        if self.interrupt_on_sleep is not None and len(self.sleeps) >= self.interrupt_on_sleep:
            raise KeyboardInterrupt
        self.current += timedelta(seconds=seconds)


def recording_flow(timer: FakeTimer, seen: list[tuple[datetime, int]], schedule: Schedule,
                   work: timedelta = timedelta(0)) -> Flow:
    @task
    def record(n: int) -> int:
        seen.append((timer.now(), n))
        timer.current += work  # the run takes this long
        return n

    with Flow("scheduled", schedule=schedule) as flow:
        record(Parameter("n", default=0))
    return flow


def test_run_on_schedule_sleeps_until_each_time_and_runs() -> None:
    timer = FakeTimer(datetime(2026, 1, 1, 10, 7, 30, tzinfo=UTC))
    seen: list[tuple[datetime, int]] = []
    schedule = Schedule([IntervalClock(timedelta(minutes=15), parameter_defaults={"n": 7})])
    flow = recording_flow(timer, seen, schedule)
    state = flow.run(run_on_schedule=True, timer=timer, max_runs=3, progress=False)
    assert state.is_successful()
    assert [t.strftime("%H:%M:%S") for t, _ in seen] == ["10:15:00", "10:30:00", "10:45:00"]
    assert [n for _, n in seen] == [7, 7, 7]  # the clock's parameter defaults
    # 7.5 minutes, then 15 minutes twice, in naps of at most MAX_NAP seconds
    assert sum(timer.sleeps) == 450 + 900 + 900
    assert max(timer.sleeps) == on_schedule.MAX_NAP


def test_run_on_schedule_parameters_win_over_clock_defaults() -> None:
    timer = FakeTimer(datetime(2026, 1, 1, tzinfo=UTC))
    seen: list[tuple[datetime, int]] = []
    schedule = Schedule([CronClock("0 * * * *", parameter_defaults={"n": 1}),
                         CronClock("30 * * * *")])
    flow = recording_flow(timer, seen, schedule)
    flow.run({"n": 5}, run_on_schedule=True, timer=timer, max_runs=2, progress=False)
    assert seen == [(datetime(2026, 1, 1, 0, 30, tzinfo=UTC), 5),
                    (datetime(2026, 1, 1, 1, 0, tzinfo=UTC), 5)]
    seen.clear()
    flow.run(run_on_schedule=True, timer=timer, max_runs=2, progress=False)
    assert [n for _, n in seen] == [0, 1]  # the flow's default, then the clock's


def test_a_run_longer_than_the_interval_skips_the_missed_times() -> None:
    timer = FakeTimer(datetime(2026, 1, 1, tzinfo=UTC))
    seen: list[tuple[datetime, int]] = []
    schedule = Schedule([IntervalClock(timedelta(minutes=10))])
    flow = recording_flow(timer, seen, schedule, work=timedelta(minutes=25))
    flow.run(run_on_schedule=True, timer=timer, max_runs=3, progress=False)
    assert [t.strftime("%H:%M") for t, _ in seen] == ["00:10", "00:40", "01:10"]


def test_ctrl_c_while_waiting_ends_cleanly(caplog: pytest.LogCaptureFixture) -> None:
    timer = FakeTimer(datetime(2026, 1, 1, tzinfo=UTC), interrupt_on_sleep=3)
    seen: list[tuple[datetime, int]] = []
    flow = recording_flow(timer, seen, Schedule([IntervalClock(timedelta(seconds=45))]))
    with caplog.at_level(logging.INFO, logger="jupyter_flows"):
        state = flow.run(run_on_schedule=True, timer=timer, progress=False)
    assert len(seen) == 2 and state.is_successful()  # the last finished run's state
    assert any("interrupted; stopped after 2 scheduled run(s)" in r.getMessage()
               for r in caplog.records)

    before_any = FakeTimer(datetime(2026, 1, 1, tzinfo=UTC), interrupt_on_sleep=1)
    state = recording_flow(before_any, [], Schedule([IntervalClock(timedelta(hours=1))])).run(
        run_on_schedule=True, timer=before_any, progress=False)
    assert state.name == "Scheduled"
    assert state.message == ("interrupted before the run scheduled at "
                             "2026-01-01T01:00:00+00:00 finished")


def test_run_on_schedule_stops_when_the_schedule_ends() -> None:
    timer = FakeTimer(datetime(2026, 1, 1, tzinfo=UTC))
    seen: list[tuple[datetime, int]] = []
    dates = [datetime(2026, 1, 1, 9, tzinfo=UTC), datetime(2026, 1, 2, 9, tzinfo=UTC)]
    flow = recording_flow(timer, seen, Schedule([DatesClock(dates)]))
    assert flow.run(run_on_schedule=True, timer=timer, progress=False).is_successful()
    assert [t for t, _ in seen] == dates
    state = flow.run(run_on_schedule=True, timer=timer, progress=False)  # all in the past
    assert state.name == "Pending" and len(seen) == 2


def test_run_on_schedule_refusals() -> None:
    with pytest.raises(ScheduleError, match="flow 'etl' has no schedule"):
        build().run(run_on_schedule=True)
    with pytest.raises(ScheduleError, match="max_runs must be at least 1"):
        build(WEEKDAYS_AT_SIX).run(run_on_schedule=True, max_runs=0)
    timer = FakeTimer(datetime(2026, 1, 1, tzinfo=UTC))
    bad_defaults = Schedule([IntervalClock(timedelta(hours=1), parameter_defaults={"m": 1})])
    with pytest.raises(ParameterError, match="has no parameter 'm'"):
        build(bad_defaults).run(run_on_schedule=True, timer=timer, progress=False)


@pytest.mark.slow
def test_run_on_schedule_for_real_until_ctrl_c(tmp_path: Path) -> None:
    """The system clock and real sleeps in a subprocess; SIGINT after two runs."""
    marks = tmp_path / "runs.txt"
    script = tmp_path / "scheduled.py"
    script.write_text(textwrap.dedent(f"""
        from datetime import datetime, timedelta, timezone
        from jupyter_flows import Flow, task
        from jupyter_flows.schedules import IntervalSchedule

        @task
        def mark():
            with open({str(marks)!r}, "a") as out:
                out.write(datetime.now(timezone.utc).isoformat() + "\\n")

        with Flow("ticks", schedule=IntervalSchedule(interval=timedelta(seconds=1))) as flow:
            mark()

        state = flow.run(run_on_schedule=True, progress=False)
        print("returned", state.name, flush=True)
    """))
    process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=os.environ)
    try:
        while len(marks.read_text().splitlines() if marks.exists() else []) < 2:
            assert process.poll() is None, process.communicate()
            subprocess.run(["sleep", "0.1"], check=True)
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0, err
    assert out.strip() == "returned Success"
    assert "running on its schedule (every second) until interrupted" in err
    assert "interrupted; stopped after" in err
    scheduled = [datetime.fromisoformat(line.rsplit(" ", 1)[-1])
                 for line in err.splitlines() if "next run at" in line]
    started = [datetime.fromisoformat(line) for line in marks.read_text().splitlines()]
    # every second on the second (the clock counts from 2019-01-01 00:00 UTC), each run
    # starting no earlier than its time
    assert all(t.microsecond == 0 for t in scheduled)
    assert all(b - a >= timedelta(seconds=1) for a, b in itertools.pairwise(scheduled))
    assert len(started) >= 2
    assert all(run >= due for run, due in zip(started, scheduled))
