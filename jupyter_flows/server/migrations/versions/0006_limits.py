"""Concurrency limits (runs per label, task runs per tag), the task slots held, run names.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "concurrency_limits",
        sa.Column("kind", sa.String(16), primary_key=True),
        sa.Column("name", sa.String(200), primary_key=True),
        sa.Column("limit", sa.Integer, nullable=False),
        sa.Column("created", sa.DateTime, nullable=False),
        sa.Column("updated", sa.DateTime, nullable=False),
    )
    op.create_table(
        "task_slots",
        sa.Column("flow_run_id", sa.String(32),
                  sa.ForeignKey("flow_runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("task_slug", sa.String(300), primary_key=True),
        sa.Column("map_index", sa.Integer, primary_key=True),
        sa.Column("tag", sa.String(200), primary_key=True),
        sa.Column("acquired", sa.DateTime, nullable=False),
    )
    op.create_index("ix_task_slots_tag", "task_slots", ["tag"])
    op.add_column("flow_runs", sa.Column("name", sa.String(200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("flow_runs") as batch:
        batch.drop_column("name")
    op.drop_index("ix_task_slots_tag", "task_slots")
    op.drop_table("task_slots")
    op.drop_table("concurrency_limits")
