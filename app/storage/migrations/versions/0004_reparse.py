"""Re-parse: a job's definitions get versions, old ones kept; raw chunks keep their time.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(
            sa.Column("definitions_version", sa.Integer, nullable=False, server_default="1")
        )
    with op.batch_alter_table("runs") as batch:
        batch.add_column(
            sa.Column("definitions_version", sa.Integer, nullable=False, server_default="1")
        )
    with op.batch_alter_table("chunks") as batch:
        batch.add_column(sa.Column("timestamp", sa.Float))
    op.create_table(
        "job_definitions",
        sa.Column(
            "job_id", sa.Integer, sa.ForeignKey("jobs.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("version", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("objective_metric", sa.String(255), nullable=False),
        sa.Column("objective_type", sa.String(16), nullable=False),
        sa.Column("objective_strategy", sa.String(16), nullable=False),
        sa.Column("metric_definitions", sa.JSON, nullable=False),
        sa.Column("replaced_at", sa.Float, nullable=False),
        sqlite_with_rowid=False,
    )
