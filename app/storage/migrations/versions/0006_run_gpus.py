"""The GPUs a run held on its worker (`logmetrics worker --gpus`), as its heartbeats say.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        # The worker's names for the devices; NULL where it did not count GPUs.
        batch.add_column(sa.Column("gpus", sa.JSON))


def downgrade() -> None:
    with op.batch_alter_table("runs") as batch:
        batch.drop_column("gpus")
