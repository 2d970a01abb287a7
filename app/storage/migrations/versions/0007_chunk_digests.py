"""A shipper's chunk's digest (its bytes and time), unique in its stream: a retried
PutLogEvents or OTLP batch finds its chunks stored and stores nothing again.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (no table copy): NULL for every chunk stored before.
    op.add_column("chunks", sa.Column("digest", sa.LargeBinary))
    op.create_index("chunks_by_digest", "chunks", ["stream_id", "digest"], unique=True)


def downgrade() -> None:
    op.drop_index("chunks_by_digest", "chunks")
    op.drop_column("chunks", "digest")
