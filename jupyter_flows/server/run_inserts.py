"""Inserting many flow runs at once, each with its first state and its labels.

Used by the scheduler and by run creation (one run or a batch): a few statements per
batch instead of an ORM flush per run, which is what makes bulk creation fast.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import Table, insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from jupyter_flows.api import FlowRunId
from jupyter_flows.server.events import changes_of, mark_due
from jupyter_flows.server.models import FlowRunLabelModel, FlowRunModel, FlowRunStateModel

#: Rows per executemany batch of flow-run inserts.
INSERT_ROWS = 500

T = TypeVar("T")


def chunks(items: Sequence[T], size: int) -> Iterable[Sequence[T]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def insert_runs(session: Session, dialect: str, rows: list[dict[str, Any]], now: datetime
                ) -> list[FlowRunId]:
    """Insert these Scheduled runs (rows of ``flow_runs`` with ``event_seq`` 1), except
    those whose (flow, idempotency key) exists already, with their first state and labels;
    returns the ids inserted, in the order of ``rows``."""
    if not rows:
        return []
    upsert = pg_insert if dialect == "postgresql" else sqlite_insert
    inserted: set[str] = set()
    # one cached statement, executemany: SQLAlchemy batches it into multi-row INSERTs
    # ("insertmanyvalues") within the drivers' bound-parameter limits, without compiling a
    # statement per batch as .values([...]) would
    table = cast(Table, FlowRunModel.__table__)
    statement = upsert(table).on_conflict_do_nothing().returning(table.c.id)
    for chunk in chunks(rows, INSERT_ROWS):
        inserted.update(session.execute(statement, list(chunk)).scalars())
    made = [row for row in rows if row["id"] in inserted]
    if not made:
        return []
    # each run's first event (seq 1), as record_state writes it, without reloading the runs
    session.execute(insert(FlowRunStateModel), [
        {"flow_run_id": row["id"], "seq": 1, "state": row["state"],
         "message": row["state_message"], "timestamp": now, "version": 1} for row in made])
    labels = [{"flow_run_id": row["id"], "label": label} for row in made
              for label in row["labels"]]
    if labels:
        session.execute(insert(FlowRunLabelModel), labels)
    changes_of(session).runs.update(row["id"] for row in made)
    mark_due(session)  # waiting claims look again, and sleep until the first is due
    return [FlowRunId(row["id"]) for row in made]
