"""Run events: a per-run sequence on states and logs, task-run state history, task starts.

Existing runs are numbered from their rows in time order (states, then task runs, then logs
at equal timestamps); each task run's latest state becomes its one history row, and a
finished task run's start is unknown (NULL).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("flow_runs", sa.Column("event_seq", sa.Integer, nullable=False,
                                         server_default="0"))
    op.add_column("flow_run_states", sa.Column("seq", sa.Integer, nullable=False,
                                               server_default="0"))
    op.add_column("logs", sa.Column("seq", sa.Integer, nullable=False, server_default="0"))
    op.add_column("task_runs", sa.Column("started", sa.DateTime))
    op.create_table(
        "task_run_states",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("flow_run_id", sa.String(32),
                  sa.ForeignKey("flow_runs.id", ondelete="CASCADE"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("task_slug", sa.String(300), nullable=False),
        sa.Column("map_index", sa.Integer, nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("message", sa.Text),
        sa.Column("timestamp", sa.DateTime, nullable=False),
    )
    _number_existing_rows()
    op.create_index("ix_flow_run_states_seq", "flow_run_states", ["flow_run_id", "seq"])
    op.create_index("ix_task_run_states_seq", "task_run_states", ["flow_run_id", "seq"])
    op.create_index("ix_logs_seq", "logs", ["flow_run_id", "seq"])


def _number_existing_rows() -> None:
    bind = op.get_bind()
    rows: dict[str, list[tuple[object, int, str, int]]] = defaultdict(list)
    for kind, table in ((0, "flow_run_states"), (1, "task_runs"), (2, "logs")):
        for row_id, run_id, when in bind.execute(
                sa.text(f"SELECT id, flow_run_id, timestamp FROM {table}")):
            rows[run_id].append((str(when), kind, table, row_id))
    states: list[dict[str, object]] = []
    logs: list[dict[str, object]] = []
    history: list[dict[str, object]] = []
    counts: list[dict[str, object]] = []
    for run_id, events in rows.items():
        events.sort()
        for seq, (_, _, table, row_id) in enumerate(events, start=1):
            target = {"flow_run_states": states, "logs": logs, "task_runs": history}[table]
            target.append({"id": row_id, "seq": seq})
        counts.append({"id": run_id, "seq": len(events)})
    if states:
        bind.execute(sa.text("UPDATE flow_run_states SET seq = :seq WHERE id = :id"), states)
    if logs:
        bind.execute(sa.text("UPDATE logs SET seq = :seq WHERE id = :id"), logs)
    if history:
        bind.execute(sa.text(
            "INSERT INTO task_run_states (flow_run_id, seq, task_slug, map_index, state, message,"
            " timestamp) SELECT flow_run_id, :seq, task_slug, map_index, state, message, timestamp"
            " FROM task_runs WHERE id = :id"), history)
    if counts:
        bind.execute(sa.text("UPDATE flow_runs SET event_seq = :seq WHERE id = :id"), counts)


def downgrade() -> None:
    for index, table in (("ix_logs_seq", "logs"), ("ix_task_run_states_seq", "task_run_states"),
                         ("ix_flow_run_states_seq", "flow_run_states")):
        op.drop_index(index, table)
    op.drop_table("task_run_states")
    with op.batch_alter_table("task_runs") as batch:
        batch.drop_column("started")
    with op.batch_alter_table("logs") as batch:
        batch.drop_column("seq")
    with op.batch_alter_table("flow_run_states") as batch:
        batch.drop_column("seq")
    with op.batch_alter_table("flow_runs") as batch:
        batch.drop_column("event_seq")
