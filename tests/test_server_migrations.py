"""The schema comes from migrations: from empty, from jupyter-flows 0.1.0's database (made
by that version, kept as tests/fixtures/backend-0.1.0.sql), never from a newer version's."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from jupyter_flows.errors import DatabaseVersionError
from jupyter_flows.server.db import Database
from jupyter_flows.server.migrations import head_revision
from jupyter_flows.server.models import Base
from jupyter_flows.server.settings import Settings
from jupyter_flows.server.testing import in_process

LEGACY_SQL = Path(__file__).parent / "fixtures" / "backend-0.1.0.sql"
# ids in the fixture (see the fixture's INSERTs)
LEGACY_FLOW = "db897cdee8454241a02745fda054f145"
LEGACY_DONE, LEGACY_WAITING, LEGACY_CANCELLED = (
    "251dbcc5b05b41748116b0f50426ac37", "8c53caa3abbc4c5aba42cd9db002504f",
    "bd6a622d1a464c0e8040adda212c556f")


def legacy_database(path: Path) -> str:
    with sqlite3.connect(path) as connection:
        connection.executescript(LEGACY_SQL.read_text())
    return f"sqlite:///{path}"


def schema_drift(db: Database) -> list[object]:
    """What autogenerate would still change: empty when migrations and models agree."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def revision(db: Database) -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def test_an_empty_sqlite_database_is_migrated_to_the_models(tmp_path):
    db = Database(Settings(database_url=f"sqlite:///{tmp_path}/new.db"))
    assert db.upgrade_schema() == "none"
    assert revision(db) == head_revision()
    assert schema_drift(db) == []
    assert db.upgrade_schema() == head_revision()  # a second start changes nothing


def test_an_empty_postgresql_database_is_migrated_to_the_models(pg_url):
    db = Database(Settings(database_url=pg_url))
    try:
        assert db.upgrade_schema() == "none"
        assert revision(db) == head_revision()
        assert schema_drift(db) == []
    finally:
        db.dispose()


def test_a_database_made_by_version_0_1_0_upgrades_and_keeps_everything(tmp_path):
    db = Database(Settings(database_url=legacy_database(tmp_path / "old.db")))
    assert revision(db) is None  # 0.1.0 predates migrations
    assert db.upgrade_schema() == "0.1.0"
    assert revision(db) == head_revision()
    assert schema_drift(db) == []


@pytest.mark.anyio
async def test_the_upgraded_backend_serves_the_old_flows_runs_states_and_logs(tmp_path):
    settings = Settings(database_url=legacy_database(tmp_path / "old.db"))
    async with in_process(settings) as http:
        flow = (await http.get(f"/api/flows/{LEGACY_FLOW}")).json()
        assert (flow["name"], flow["project"], flow["version"]) == ("legacy-etl", "demo", 1)
        assert [t["slug"] for t in flow["spec"]["tasks"]] == ["n", "extract-1", "square-1",
                                                              "total-1"]
        assert flow["run_config"]["env"] == {"DB_PASSWORD": "***"}

        runs = (await http.get("/api/flow_runs", params={"flow_id": LEGACY_FLOW})).json()
        assert {r["id"]: r["state"] for r in runs["items"]} == {
            LEGACY_DONE: "Success", LEGACY_WAITING: "Scheduled", LEGACY_CANCELLED: "Cancelled"}
        states = (await http.get(f"/api/flow_runs/{LEGACY_DONE}/states")).json()
        assert [s["state"] for s in states] == ["Scheduled", "Submitted", "Running", "Success"]
        task_runs = (await http.get(f"/api/flow_runs/{LEGACY_DONE}/task_runs")).json()
        assert [(t["task_slug"], t["map_index"], t["state"]) for t in task_runs] == [
            ("extract-1", None, "Success"), ("n", None, "Success"),
            ("square-1", None, "Mapped"), ("square-1", 0, "Success"), ("square-1", 1, "Success"),
            ("square-1", 2, "Success"), ("total-1", None, "Success")]
        logs = (await http.get(f"/api/flow_runs/{LEGACY_DONE}/logs")).json()["items"]
        assert [log["message"] for log in logs] == [
            "flow run started", "extracted 3 rows", "caf\u00e9 \u2603 unicode survives",
            "flow run finished: Success"]
        agents = (await http.get("/api/agents")).json()
        assert [(a["name"], a["labels"]) for a in agents] == [("legacy-agent", ["etl", "gpu"])]

        # and it keeps working: the waiting run is claimable by a matching agent
        agent = (await http.post("/api/agents", json={"name": "new", "labels": ["etl", "gpu"]}
                                 )).json()
        claim = await http.post(f"/api/agents/{agent['id']}/claim", params={"wait": 0})
        assert claim.status_code == 204  # its scheduled start is in 2030: not due yet
        new = (await http.post("/api/flow_runs", json={"flow_id": LEGACY_FLOW})).json()
        claim = (await http.post(f"/api/agents/{agent['id']}/claim")).json()
        assert claim["flow_run"]["id"] == new["id"]


def test_a_database_from_a_newer_version_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path}/newer.db"
    db = Database(Settings(database_url=url))
    db.upgrade_schema()
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = 'f00dfeed'"))
    with pytest.raises(DatabaseVersionError, match="revision 'f00dfeed', which this "
                                                   "jupyter-flows does not know"):
        Database(Settings(database_url=url)).upgrade_schema()


def test_two_servers_starting_together_migrate_once(tmp_path):
    url = legacy_database(tmp_path / "shared.db")
    results: list[str] = []
    errors: list[BaseException] = []

    def start() -> None:
        try:
            results.append(Database(Settings(database_url=url)).upgrade_schema())
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    # exactly one of them found the 0.1.0 database; the others found it upgraded
    assert sorted(results) == ["0.1.0"] + [head_revision()] * 3
