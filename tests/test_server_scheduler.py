"""The backend's scheduler: every (flow, scheduled time) exactly once, with two schedulers on
one PostgreSQL and across a restart on SQLite; the missed-runs policy; pause and resume;
a changed schedule on re-registration. Time is simulated (the scheduler's ``now``)."""

from __future__ import annotations

import itertools
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select
from wire import spec_json

from jupyter_flows.schedules import IntervalClock, Schedule
from jupyter_flows.server.db import Database
from jupyter_flows.server.models import FlowModel, FlowRunLabelModel, FlowRunModel
from jupyter_flows.server.scheduler import Scheduler, schedule_key
from jupyter_flows.server.settings import Settings
from jupyter_flows.server.testing import in_process

T0 = datetime(2030, 1, 7, 6, 0, tzinfo=timezone.utc)
MINUTE = timedelta(minutes=1)


def every_minute(**clock: object) -> Schedule:
    return Schedule(clocks=[IntervalClock(MINUTE, start_date=T0, **clock)])


def add_flow(db: Database, name: str, schedule: Schedule, *, version: int = 1,
             labels: list[str] | None = None,
             registered: datetime = T0 - timedelta(hours=1)) -> str:
    """A registered flow version, as registration stores it (by default from before T0)."""
    spec = spec_json(name, location=str(version),
                     schedule=schedule.model_dump(mode="json"))

    def work(session):  # type: ignore[no-untyped-def]
        flow = FlowModel(name=name, project="default", version=version, spec_hash=f"{version}",
                         spec=spec, storage={}, run_config={}, executor={},
                         labels=labels or [], created=registered, updated=registered)
        session.add(flow)
        session.flush()
        return flow.id

    return db.run(work)


def scheduled(db: Database) -> Counter[tuple[str, datetime]]:
    """How many auto-scheduled runs each (flow, scheduled time) has."""
    def work(session):  # type: ignore[no-untyped-def]
        rows = session.execute(select(FlowRunModel.flow_id, FlowRunModel.scheduled_start)
                               .where(FlowRunModel.auto_scheduled.is_(True)))
        return Counter((flow_id, start) for flow_id, start in rows)

    return db.run(work, write=False)


class SimulatedClock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def settings(url: str, **values: object) -> Settings:
    chosen: dict[str, object] = {"schedule_horizon": 300, "schedule_max_runs": 10, **values}
    return Settings(database_url=url, **chosen)  # type: ignore[arg-type]


def test_two_schedulers_on_one_postgres_make_each_run_exactly_once(pg_url: str) -> None:
    """50 flows, every minute, 10 simulated minutes with a pass every 10 s by each of two
    schedulers with engines of their own, passing at the same moment in two threads."""
    first = Database(settings(pg_url))
    first.upgrade_schema()
    second = Database(settings(pg_url))
    flows = [add_flow(first, f"flow-{i}", every_minute()) for i in range(50)]
    clock = SimulatedClock(T0)
    schedulers = [Scheduler(first, settings(pg_url), now=clock),
                  Scheduler(second, settings(pg_url), now=clock)]
    made: list[list[str]] = [[], []]
    barrier = threading.Barrier(2)

    def passes(index: int) -> None:
        for step in range(61):
            barrier.wait()
            if index == 0:
                clock.now = T0 + step * timedelta(seconds=10)
            barrier.wait()
            made[index].extend(schedulers[index].run_once())

    try:
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(passes, [0, 1]))
        counts = scheduled(first)
    finally:
        first.dispose()
        second.dispose()
    # each pass keeps the next times within the 5-minute horizon: T0+1 min .. T0+15 min
    expected = {(flow_id, T0 + k * MINUTE) for flow_id in flows for k in range(1, 16)}
    assert set(counts) == expected
    assert set(counts.values()) == {1}
    assert len(made[0]) + len(made[1]) == len(expected)  # no run reported twice
    assert len(set(made[0]) | set(made[1])) == len(expected)


def test_a_restart_in_the_middle_on_sqlite_makes_no_duplicates(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/backend.db"
    clock = SimulatedClock(T0)
    db = Database(settings(url))
    db.upgrade_schema()
    flows = [add_flow(db, f"flow-{i}", every_minute(labels=["night"],
                                                    parameter_defaults={"n": i}))
             for i in range(5)]
    for step in range(31):  # 5 minutes
        clock.now = T0 + step * timedelta(seconds=10)
        Scheduler(db, settings(url), now=clock).run_once()
    db.dispose()
    db = Database(settings(url))  # the backend started again
    db.upgrade_schema()
    for step in range(30, 61):  # the pass at 5 minutes runs again, then 5 minutes more
        clock.now = T0 + step * timedelta(seconds=10)
        Scheduler(db, settings(url), now=clock).run_once()
    counts = scheduled(db)
    assert set(counts) == {(f, T0 + k * MINUTE) for f in flows for k in range(1, 16)}
    assert set(counts.values()) == {1}

    def run_details(session):  # type: ignore[no-untyped-def]
        run = session.scalars(select(FlowRunModel).where(FlowRunModel.flow_id == flows[3])
                              .order_by(FlowRunModel.scheduled_start)).first()
        labels = list(session.scalars(select(FlowRunLabelModel.label).where(
            FlowRunLabelModel.flow_run_id == run.id)))
        return run, labels

    run, labels = db.run(run_details, write=False)
    db.dispose()
    # the clock's parameter defaults and labels are the run's
    assert run.parameters == {"n": 3} and run.labels == ["night"] and labels == ["night"]
    assert run.state == "Scheduled" and run.idempotency_key == schedule_key(T0 + MINUTE)


@pytest.mark.parametrize("policy", ["skip", "latest"])
def test_times_missed_while_down_are_skipped_or_the_latest_runs_once(tmp_path: Path,
                                                                      policy: str) -> None:
    url = f"sqlite:///{tmp_path}/backend.db"
    config = settings(url, schedule_horizon=60, missed_runs=policy)
    clock = SimulatedClock(T0)
    db = Database(config)
    db.upgrade_schema()
    flow = add_flow(db, "daily", every_minute(), registered=T0)
    scheduler = Scheduler(db, config, now=clock)
    scheduler.run_once()  # T0: makes T0+1 min
    clock.now = T0 + 5 * MINUTE + timedelta(seconds=30)  # down from T0 to here
    made = scheduler.run_once()
    scheduler.run_once()  # a second pass changes nothing
    counts = scheduled(db)
    db.dispose()
    times = sorted(start for _, start in counts)
    assert set(counts.values()) == {1}
    if policy == "skip":
        assert times == [T0 + MINUTE, T0 + 6 * MINUTE]
    else:  # the latest missed time (T0+5 min) runs once, now; T0+2..4 min are skipped
        assert times == [T0 + MINUTE, T0 + 5 * MINUTE, T0 + 6 * MINUTE]
    assert len(made) == len(times) - 1 and all(f == flow for f, _ in counts)


def test_only_the_latest_version_is_scheduled(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/backend.db"
    db = Database(settings(url))
    db.upgrade_schema()
    add_flow(db, "f", every_minute(), version=1)
    v2 = add_flow(db, "f", Schedule(clocks=[IntervalClock(2 * MINUTE, start_date=T0)]),
                  version=2)
    Scheduler(db, settings(url), now=SimulatedClock(T0)).run_once()
    counts = scheduled(db)
    db.dispose()
    assert sorted(counts) == [(v2, T0 + k * 2 * MINUTE) for k in (1, 2)]


# ------------------------------------------------------------ through the API (real clock)
def _schedule_json(seconds: float, start: datetime | None = None) -> dict[str, object]:
    start = start or datetime.now(timezone.utc)
    return Schedule(clocks=[IntervalClock(timedelta(seconds=seconds), start_date=start)]
                    ).model_dump(mode="json")


async def _register(http, name: str, schedule: dict[str, object], *, location: str = "1",
                    active: bool = True) -> dict[str, object]:  # type: ignore[no-untyped-def]
    response = await http.post("/api/flows", json={
        "name": name, "spec": spec_json(name, location=location, schedule=schedule),
        "set_schedule_active": active})
    assert response.status_code in (200, 201), response.text
    return response.json()


async def _upcoming(http, flow_id: str) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    page = (await http.get("/api/flow_runs", params={"flow_id": flow_id, "upcoming": True,
                                                     "limit": 500})).json()
    return page["items"]


@pytest.mark.anyio
async def test_pause_deletes_unclaimed_runs_and_resume_recreates_them(tmp_path: Path) -> None:
    async with in_process(Settings(database_url=f"sqlite:///{tmp_path}/b.db")) as http:
        every_minute_from_now = _schedule_json(60)
        flow = await _register(http, "hourly", every_minute_from_now, active=False)
        assert flow["schedule_active"] is False
        assert await _upcoming(http, flow["id"]) == []
        # the same spec again with the schedule on: its next 10 runs (within an hour)
        flow = await _register(http, "hourly", every_minute_from_now)
        runs = await _upcoming(http, flow["id"])
        assert len(runs) == 10 and all(r["auto_scheduled"] for r in runs)
        shown = (await http.get(f"/api/flows/{flow['id']}/schedule")).json()
        assert shown["active"] is True and shown["upcoming_runs"] == 10
        assert len(shown["next_times"]) == 5 and "every minute" in shown["description"]
        paused = await http.post(f"/api/flows/{flow['id']}/schedule", json={"active": False})
        assert paused.json()["active"] is False and paused.json()["upcoming_runs"] == 0
        assert await _upcoming(http, flow["id"]) == []
        resumed = await http.post(f"/api/flows/{flow['id']}/schedule", json={"active": True})
        assert resumed.json()["upcoming_runs"] == 10
        again = await _upcoming(http, flow["id"])
        assert sorted(r["scheduled_start"] for r in again) == sorted(
            r["scheduled_start"] for r in runs)
        bad = await http.post(f"/api/flows/{flow['id']}/schedule", json={"activ": True})
        assert bad.status_code == 422


@pytest.mark.anyio
async def test_an_archived_flow_loses_its_scheduled_runs_and_is_not_scheduled(
        tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path}/b.db"
    async with in_process(Settings(database_url=db_url)) as http:
        flow = await _register(http, "archived", _schedule_json(60))
        assert len(await _upcoming(http, flow["id"])) == 10
        archived = await http.delete(f"/api/flows/{flow['id']}")
        assert archived.status_code == 200 and archived.json()["archived"]
        assert await _upcoming(http, flow["id"]) == []
    db = Database(Settings(database_url=db_url))
    Scheduler(db, settings(db_url)).run_once()
    assert not scheduled(db)  # a pass makes none for it


@pytest.mark.anyio
async def test_a_changed_schedule_replaces_unclaimed_runs_and_leaves_started_ones(
        tmp_path: Path) -> None:
    async with in_process(Settings(database_url=f"sqlite:///{tmp_path}/b.db",
                                   claim_max_wait=10)) as http:
        start = datetime.now(timezone.utc) + timedelta(seconds=1)
        v1 = await _register(http, "f", _schedule_json(1, start))
        assert len(await _upcoming(http, v1["id"])) == 10
        agent = (await http.post("/api/agents", json={"name": "a"})).json()
        claim = await http.post(f"/api/agents/{agent['id']}/claim", params={"wait": 10})
        assert claim.status_code == 200, claim.text
        started = claim.json()["flow_run"]
        assert started["flow_id"] == v1["id"] and started["auto_scheduled"]
        # the schedule changed: a new version whose runs replace v1's unclaimed ones
        v2 = await _register(http, "f", _schedule_json(120, start), location="2")
        assert v2["version"] == 2 and v2["is_new"] is True
        v1_runs = (await http.get("/api/flow_runs", params={"flow_id": v1["id"]})).json()
        assert [r["id"] for r in v1_runs["items"]] == [started["id"]]
        assert v1_runs["items"][0]["state"] == "Submitted"
        v2_runs = await _upcoming(http, v2["id"])
        assert len(v2_runs) == 10 and {r["flow_version"] for r in v2_runs} == {2}
        gaps = {(_dt(b["scheduled_start"]) - _dt(a["scheduled_start"])).total_seconds()
                for a, b in itertools.pairwise(v2_runs)}
        assert gaps == {120.0}
        shown = (await http.get(f"/api/flows/{v1['id']}/schedule")).json()
        assert shown["flow_id"] == v2["id"] and shown["version"] == 2  # the latest's


def _dt(text: object) -> datetime:
    assert isinstance(text, str)
    return datetime.fromisoformat(text)


def test_scheduled_runs_are_counted_per_flow_and_time_by_a_unique_key(tmp_path: Path) -> None:
    """The database itself refuses a second run of one (flow, time)."""
    url = f"sqlite:///{tmp_path}/backend.db"
    db = Database(settings(url))
    db.upgrade_schema()
    add_flow(db, "f", every_minute())
    clock = SimulatedClock(T0)
    first = Scheduler(db, settings(url), now=clock).run_once()
    second = Scheduler(db, settings(url), now=clock).run_once()
    total = db.run(lambda s: s.scalar(select(func.count()).select_from(FlowRunModel)),
                   write=False)
    db.dispose()
    assert len(first) == 5 and second == [] and total == 5
