"""The schema of jupyter-flows 0.1.0, the first version (which made it with create_all).

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "flows",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, index=True),
        sa.Column("project", sa.String(200), nullable=False, index=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("spec_hash", sa.String(64), nullable=False),
        sa.Column("spec", sa.JSON, nullable=False),
        sa.Column("storage", sa.JSON, nullable=False),
        sa.Column("run_config", sa.JSON, nullable=False),
        sa.Column("executor", sa.JSON, nullable=False),
        sa.Column("labels", sa.JSON, nullable=False),
        sa.Column("max_retries", sa.Integer, nullable=False),
        sa.Column("created", sa.DateTime, nullable=False),
        sa.Column("updated", sa.DateTime, nullable=False),
        sa.UniqueConstraint("project", "name", "version"),
        sa.UniqueConstraint("project", "name", "spec_hash"),
    )
    op.create_table(
        "agents",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("type", sa.String(100), nullable=False),
        sa.Column("labels", sa.JSON, nullable=False),
        sa.Column("created", sa.DateTime, nullable=False),
        sa.Column("last_heartbeat", sa.DateTime, nullable=False),
    )
    op.create_table(
        "flow_runs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("flow_id", sa.String(32), sa.ForeignKey("flows.id"), nullable=False,
                  index=True),
        sa.Column("parameters", sa.JSON, nullable=False),
        sa.Column("run_config", sa.JSON, nullable=False),
        sa.Column("executor", sa.JSON, nullable=False),
        sa.Column("labels", sa.JSON, nullable=False),
        sa.Column("idempotency_key", sa.String(200)),
        sa.Column("scheduled_start", sa.DateTime, nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("state_message", sa.Text),
        sa.Column("state_timestamp", sa.DateTime, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("run_count", sa.Integer, nullable=False),
        sa.Column("max_retries", sa.Integer, nullable=False),
        sa.Column("agent_id", sa.String(32)),
        sa.Column("lease_id", sa.String(32)),
        sa.Column("lease_expires_at", sa.DateTime),
        sa.Column("last_heartbeat", sa.DateTime),
        sa.Column("exit_code", sa.Integer),
        sa.Column("infrastructure_message", sa.Text),
        sa.Column("created", sa.DateTime, nullable=False),
        sa.Column("updated", sa.DateTime, nullable=False),
        sa.UniqueConstraint("flow_id", "idempotency_key"),
    )
    op.create_index("ix_flow_runs_due", "flow_runs", ["state", "scheduled_start", "created"])
    op.create_index("ix_flow_runs_lease", "flow_runs", ["state", "lease_expires_at"])
    op.create_table(
        "flow_run_labels",
        sa.Column("flow_run_id", sa.String(32),
                  sa.ForeignKey("flow_runs.id", ondelete="CASCADE"), primary_key=True),
        sa.Column("label", sa.String(200), primary_key=True),
    )
    op.create_table(
        "flow_run_states",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("flow_run_id", sa.String(32),
                  sa.ForeignKey("flow_runs.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("message", sa.Text),
        sa.Column("timestamp", sa.DateTime, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    )
    op.create_table(
        "task_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("flow_run_id", sa.String(32),
                  sa.ForeignKey("flow_runs.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("task_slug", sa.String(300), nullable=False),
        sa.Column("map_index", sa.Integer, nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("message", sa.Text),
        sa.Column("timestamp", sa.DateTime, nullable=False),
        sa.UniqueConstraint("flow_run_id", "task_slug", "map_index"),
    )
    op.create_table(
        "logs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("flow_run_id", sa.String(32),
                  sa.ForeignKey("flow_runs.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("timestamp", sa.DateTime, nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("message", sa.Text, nullable=False),
        sa.Column("task_slug", sa.String(300)),
        sa.Column("map_index", sa.Integer),
    )


def downgrade() -> None:
    for table in ("logs", "task_runs", "flow_run_states", "flow_run_labels", "flow_runs",
                  "agents", "flows"):
        op.drop_table(table)
