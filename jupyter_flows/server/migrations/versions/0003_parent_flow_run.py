"""Flows of flows: a run started from within another run records that parent run, and a
task run records where its checkpointed result is, for the parent to read.

Existing runs have no parent and their task runs no location (NULL).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # no foreign key: SQLite cannot add one to an existing table without copying it, and the
    # parent is only a link for listing children (runs are never deleted one by one)
    op.add_column("flow_runs", sa.Column("parent_flow_run_id", sa.String(32)))
    op.create_index("ix_flow_runs_parent_flow_run_id", "flow_runs", ["parent_flow_run_id"])
    # where a task run's checkpointed result is, so a parent flow can read a child's result
    op.add_column("task_runs", sa.Column("result_location", sa.Text))


def downgrade() -> None:
    op.drop_column("task_runs", "result_location")
    op.drop_index("ix_flow_runs_parent_flow_run_id", table_name="flow_runs")
    op.drop_column("flow_runs", "parent_flow_run_id")
