"""The tuning service: a job's search and status; a run's lease and stop request.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("search", sa.JSON))
        batch.add_column(
            sa.Column("status", sa.String(16), nullable=False, server_default="InProgress")
        )
        batch.add_column(sa.Column("status_reason", sa.Text))
        batch.add_column(sa.Column("completion_criterion", sa.String(64)))
        batch.add_column(sa.Column("completion_detail", sa.Text))
        batch.add_column(sa.Column("completed_at", sa.Float))
        batch.add_column(sa.Column("ended_at", sa.Float))
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("search_index", sa.Integer))
        batch.add_column(sa.Column("worker", sa.String(255)))
        batch.add_column(sa.Column("lease_expires_at", sa.Float))
        batch.add_column(sa.Column("stop_reason", sa.Text))
        batch.add_column(sa.Column("stop_cause", sa.String(32)))
        batch.create_index("runs_by_lease", ["lease_expires_at"])
