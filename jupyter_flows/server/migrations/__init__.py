"""The database schema, created and upgraded by Alembic migrations (never ``create_all``).

:func:`upgrade` runs at every server start: an empty database is migrated to the head
revision; a database made by jupyter-flows 0.1.0 (which predates migrations, so it has the
tables but no ``alembic_version``) is stamped with the first revision and upgraded from
there; a database at a revision this code does not know was upgraded by a newer jupyter-flows
and is refused (:class:`~jupyter_flows.errors.DatabaseVersionError`), since running old code
on it could lose data.

The whole upgrade is one transaction that holds the write lock (``BEGIN IMMEDIATE`` on
SQLite, an advisory lock on PostgreSQL), so two servers starting together on one database
migrate it once. To add a migration after changing ``models.py``::

    python -m jupyter_flows.server.migrations revision "what changed"
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text

from jupyter_flows.errors import DatabaseVersionError

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy import Connection, Engine

HERE = Path(__file__).parent
#: The revision whose schema jupyter-flows 0.1.0 made without migrations.
BASELINE = "0001"
# pg_advisory_xact_lock key: "jfmigrat" as a 64-bit integer
_PG_LOCK = int.from_bytes(b"jfmigrat", "big") >> 1


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, url: str) -> str:
    """Bring the database to the head revision; returns the revision it was at before
    (``"none"`` for an empty database, ``"0.1.0"`` for one made before migrations)."""
    from alembic import command
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK})
        current = current_revision(connection)
        before = current or "none"
        if current is not None and current not in {rev.revision for rev in script.walk_revisions()}:
            raise DatabaseVersionError(
                f"the database at {_safe(url)} is at schema revision {current!r}, which this "
                f"jupyter-flows does not know (its newest is {script.get_current_head()!r}): a "
                f"newer jupyter-flows upgraded it. Upgrade jupyter-flows, or point the server "
                f"at another database")
        config = alembic_config(connection)
        if current is None and inspect(connection).has_table("flows"):
            command.stamp(config, BASELINE)
            before = "0.1.0"
        if current != script.get_current_head():
            command.upgrade(config, "head")
    return before


def _safe(url: str) -> str:
    """The URL without its password."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
