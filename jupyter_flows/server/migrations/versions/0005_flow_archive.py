"""Flows can be archived: ``flows.archived`` is when (NULL for a flow in use).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("flows", sa.Column("archived", sa.DateTime, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("flows") as batch:
        batch.drop_column("archived")
