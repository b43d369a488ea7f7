"""Claims read from UKE files: their records as read (written back after the review with only
the review's changes), where their care days come from (JD, else estimated: R-R6) and whether
they had an MF record (R-R7).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("claim") as batch:
        batch.add_column(sa.Column("days_source", sa.String(8), nullable=False, server_default="JD"))
        batch.add_column(sa.Column("has_mf", sa.Boolean, nullable=False, server_default=sa.true()))
        batch.add_column(sa.Column("records", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("claim") as batch:
        batch.drop_column("records")
        batch.drop_column("has_mf")
        batch.drop_column("days_source")
