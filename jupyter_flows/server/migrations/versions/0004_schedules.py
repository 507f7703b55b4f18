"""Schedules: whether a flow version's schedule is active, and which runs the scheduler made.

Existing flows get an active schedule flag (their specs have no schedule, so nothing
changes for them) and existing runs are not auto-scheduled.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("flows", sa.Column("schedule_active", sa.Boolean, nullable=False,
                                     server_default=sa.true()))
    op.add_column("flow_runs", sa.Column("auto_scheduled", sa.Boolean, nullable=False,
                                         server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("flow_runs") as batch:
        batch.drop_column("auto_scheduled")
    with op.batch_alter_table("flows") as batch:
        batch.drop_column("schedule_active")
