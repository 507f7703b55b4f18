"""The database: engine, sessions, and retrying units of work when the database is busy.

SQLite gets WAL journaling (readers never block the writer), ``synchronous=NORMAL`` (no
fsync per commit in WAL mode; a power cut may lose the last commits, never corrupt the file),
a ``busy_timeout``, and ``BEGIN IMMEDIATE`` for writing transactions, so that two writers
queue on the lock instead of one failing when it upgrades a read lock. Whatever contention
remains ("database is locked") is retried here with backoff, so a busy SQLite never turns
into a 5xx. PostgreSQL is used by URL; serialization failures and deadlocks are retried
the same way.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from jupyter_flows.server.events import Changes
from jupyter_flows.server.pg_listen import notify_changes
from jupyter_flows.server.settings import Settings

T = TypeVar("T")

_log = logging.getLogger("jupyter_flows.server.db")

# How long a unit of work keeps retrying on a busy database before giving up (then: 503).
RETRY_BUDGET_SECONDS = 30.0


class DatabaseBusy(Exception):
    """The database stayed locked for longer than the retry budget."""


def _is_transient(exc: DBAPIError) -> bool:
    text = str(exc.orig).lower()
    if any(m in text for m in ("database is locked", "database is busy", "table is locked")):
        return True
    sqlstate = getattr(exc.orig, "sqlstate", None)
    # 40001 serialization_failure, 40P01 deadlock_detected, 55P03 lock_not_available
    return sqlstate in {"40001", "40P01", "55P03"}


class Database:
    """An engine plus the two kinds of session the server uses: read and write.

    ``on_commit`` is told what each committed write changed (see :mod:`.events`); on
    PostgreSQL the changes are also sent as ``NOTIFY`` in the same transaction.
    """

    def __init__(self, settings: Settings,
                 on_commit: Callable[[Changes], None] | None = None) -> None:
        self.on_commit = on_commit
        self.url = settings.resolved_database_url()
        self.kind = settings.database_kind
        if self.kind not in {"sqlite", "postgresql"}:
            raise ValueError(f"database_url: expected a sqlite:// or postgresql:// URL, "
                             f"got {settings.database_url!r}")
        writer: Engine
        if self.kind == "sqlite":
            self.engine = _sqlite_engine(self.url, settings.sqlite_busy_timeout)
            writer = self.engine.execution_options(sqlite_immediate=True)
        else:
            self.engine = create_engine(self.url, pool_size=10, max_overflow=20,
                                        pool_pre_ping=True)
            writer = self.engine
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(writer, expire_on_commit=False)

    def upgrade_schema(self) -> str:
        """Create or upgrade the schema by migrations; returns the revision it was at."""
        from jupyter_flows.server.migrations import upgrade

        writer = self.engine.execution_options(sqlite_immediate=True)
        return self._retry(lambda: upgrade(writer, self.url))

    def dispose(self) -> None:
        self.engine.dispose()

    @contextmanager
    def session(self, write: bool = False) -> Iterator[Session]:
        """One transaction, committed on success; no retries (see :meth:`run`)."""
        factory = self._write if write else self._read
        with factory() as session:
            with session.begin():
                yield session
                changes: Changes | None = session.info.get("changes")
                if changes and self.kind == "postgresql":
                    notify_changes(session, changes)
            if changes and self.on_commit is not None:
                self.on_commit(changes)

    def run(self, work: Callable[[Session], T], write: bool = True) -> T:
        """Run ``work(session)`` in one transaction, retrying it while the database is busy.

        ``work`` must be safe to run again from the start (it only touches the session).
        """
        def attempt() -> T:
            with self.session(write=write) as session:
                return work(session)

        return self._retry(attempt)

    def _retry(self, attempt: Callable[[], T]) -> T:
        deadline = time.monotonic() + RETRY_BUDGET_SECONDS
        delay = 0.005
        tries = 0
        while True:
            try:
                return attempt()
            except (OperationalError, DBAPIError) as exc:
                if not _is_transient(exc):
                    raise
                tries += 1
                if time.monotonic() + delay > deadline:
                    raise DatabaseBusy(f"the database stayed busy for {RETRY_BUDGET_SECONDS:.0f}"
                                       f" s ({tries} attempts): {exc.orig}") from exc
                _log.debug("database busy (attempt %d), retrying in %.3f s", tries, delay)
                time.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 0.25)


def _sqlite_engine(url: str, busy_timeout_ms: int) -> Engine:
    # isolation_level=None hands transaction control to the "begin" hook below.
    engine = create_engine(url, connect_args={"isolation_level": None, "timeout": 0,
                                              "check_same_thread": False},
                           pool_size=10, max_overflow=30)

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get("sqlite_immediate")
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
