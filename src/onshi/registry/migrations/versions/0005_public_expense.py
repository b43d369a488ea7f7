"""公費 (public expense) with the insurance: its 負担者番号 and 受給者番号 on visits and claims
(the KO record of a claim file).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("visit", "claim"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("public_payer", sa.String(8)))
            batch.add_column(sa.Column("public_recipient", sa.String(7)))


def downgrade() -> None:
    for table in ("visit", "claim"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("public_recipient")
            batch.drop_column("public_payer")
