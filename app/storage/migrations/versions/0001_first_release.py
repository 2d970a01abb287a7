"""The first release's schema: jobs, runs, streams, run metrics, points, raw chunks.

Revision ID: 0001
Revises:
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
        "jobs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(63), nullable=False, unique=True),
        sa.Column("objective_metric", sa.String(255), nullable=False),
        sa.Column("objective_type", sa.String(16), nullable=False),
        sa.Column("objective_strategy", sa.String(16), nullable=False),
        sa.Column("log_format", sa.String(16), nullable=False),
        sa.Column("metric_definitions", sa.JSON, nullable=False),
        sa.Column("environment", sa.JSON, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "runs",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "job_id", sa.Integer, sa.ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("name", sa.String(63), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("failure_reason", sa.Text),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.Column("ended_at", sa.Float),
        sa.Column("hyperparameters", sa.JSON, nullable=False),
        sa.Column("objective_value", sa.Float),
        sa.Column("ingest_token_hash", sa.String(64)),
        sa.UniqueConstraint("job_id", "name"),
    )
    op.create_index("runs_by_objective", "runs", ["job_id", "objective_value"])
    op.create_index("runs_by_creation", "runs", ["job_id", "created_at"])
    op.create_table(
        "streams",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("next_offset", sa.BigInteger, nullable=False),
        sa.Column("lines", sa.BigInteger, nullable=False),
        sa.Column("partial", sa.LargeBinary, nullable=False),
        sa.Column("partial_length", sa.BigInteger, nullable=False),
        sa.Column("skip_lf", sa.Boolean, nullable=False),
        sa.UniqueConstraint("run_id", "name"),
    )
    op.create_table(
        "run_metrics",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "run_id", sa.Integer, sa.ForeignKey("runs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("count", sa.BigInteger, nullable=False),
        sa.Column("last", sa.Float),
        sa.Column("last_step", sa.BigInteger),
        sa.Column("last_timestamp", sa.Float),
        sa.Column("min", sa.Float),
        sa.Column("max", sa.Float),
        sa.Column("rejected", sa.BigInteger, nullable=False),
        sa.Column("timeouts", sa.BigInteger, nullable=False),
        sa.Column("examples", sa.JSON, nullable=False),
        sa.UniqueConstraint("run_id", "name"),
    )
    op.create_table(
        "points",
        sa.Column(
            "run_metric_id",
            sa.Integer,
            sa.ForeignKey("run_metrics.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("step", sa.BigInteger, nullable=False),
        sa.Column("value", sa.Float, nullable=False),
        sa.Column("timestamp", sa.Float, nullable=False),
        sa.Column(
            "stream_id", sa.Integer, sa.ForeignKey("streams.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("line", sa.BigInteger, nullable=False),
        sa.Column("offset", sa.BigInteger, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "chunks",
        sa.Column(
            "stream_id",
            sa.Integer,
            sa.ForeignKey("streams.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("offset", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("length", sa.BigInteger, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sqlite_with_rowid=False,
    )
