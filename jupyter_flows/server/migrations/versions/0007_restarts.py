"""Restarts: a run remembers its ``run_count`` when it was last restarted, so that the retry
rule counts the claims since then and a restarted run gets its whole retry budget again.

Existing runs were never restarted (0).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("flow_runs", sa.Column("restarted_after", sa.Integer, nullable=False,
                                         server_default="0"))


def downgrade() -> None:
    op.drop_column("flow_runs", "restarted_after")
