"""The database layer: SQLite pragmas and retries while another writer holds the lock."""

from __future__ import annotations

import sqlite3
import threading
import time

import pytest
from sqlalchemy import text
from wire import spec_json

from jupyter_flows.server.db import Database
from jupyter_flows.server.settings import Settings
from jupyter_flows.server.testing import in_process


def test_sqlite_pragmas(tmp_path):
    db = Database(Settings(database_url=f"sqlite:///{tmp_path}/b.db"))
    with db.session() as session:
        pragma = {name: session.execute(text(f"PRAGMA {name}")).scalar()
                  for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")}
    db.dispose()
    assert pragma == {"journal_mode": "wal", "synchronous": 1, "busy_timeout": 5000,
                      "foreign_keys": 1}


def test_unknown_database_kind_is_refused():
    with pytest.raises(ValueError, match="expected a sqlite:// or postgresql:// URL"):
        Database(Settings(database_url="mysql://x/y"))


@pytest.mark.anyio
async def test_a_locked_database_is_retried_not_a_5xx(tmp_path):
    path = tmp_path / "b.db"
    # a busy_timeout far shorter than the lock, so the server's own retries must cover it
    settings = Settings(database_url=f"sqlite:///{path}", sqlite_busy_timeout=20)
    async with in_process(settings) as http:
        holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN EXCLUSIVE")
        release = threading.Timer(1.0, holder.execute, args=("COMMIT",))
        release.start()
        try:
            started = time.monotonic()
            response = await http.post("/api/flows", json={"name": "f", "spec": spec_json()})
            waited = time.monotonic() - started
        finally:
            release.join()
            holder.close()
        assert response.status_code == 201, response.text
        assert waited >= 0.5
