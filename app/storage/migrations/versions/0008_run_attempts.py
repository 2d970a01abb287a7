"""Attempts of a run (AMT's RetryStrategy): a run's current attempt and when it began, and
its earlier attempts, each ended by a failure of the infrastructure and tried again; and
the lease request that gave a run to its worker, so that the request sent again (its
answer lost) gets the same run.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.add_column(sa.Column("attempt", sa.Integer, nullable=False, server_default="1"))
        batch.add_column(sa.Column("attempt_started_at", sa.Float))
        batch.add_column(sa.Column("lease_request", sa.String(64)))
        batch.create_index("runs_by_lease_request", ["lease_request"])
    op.create_table(
        "run_attempts",
        sa.Column(
            "run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("attempt", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("worker", sa.String(255)),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("ended_at", sa.Float, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("run_attempts")
    with op.batch_alter_table("runs") as batch:
        batch.drop_index("runs_by_lease_request")
        batch.drop_column("lease_request")
        batch.drop_column("attempt_started_at")
        batch.drop_column("attempt")
