"""Statistics (stats/): what each visit's desk was given, so that a what-if can decide it
again; indexes for the monthly rates; the simulation's progress per month and chunk; stored
what-if reports.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("visit") as batch:
        batch.add_column(sa.Column("request", sa.Text))
    op.create_index("ix_verification_as_of", "verification", ["as_of"])
    op.create_index("ix_claim_care_month", "claim", ["care_month"])
    op.create_table(
        "simulation_month",
        sa.Column("month", sa.Date, primary_key=True),
        sa.Column("seed", sa.Integer, nullable=False),
        sa.Column("people_share", sa.Float, nullable=False),
        sa.Column("calibration", sa.String(64), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("chunks", sa.Integer, nullable=False),
        sa.Column("summary", sa.Text),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "simulation_chunk",
        sa.Column("month", sa.Date, primary_key=True),
        sa.Column("chunk", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("people", sa.Integer, nullable=False),
        sa.Column("visits", sa.Integer, nullable=False),
        sa.Column("verifications", sa.Integer, nullable=False),
        sa.Column("seconds", sa.Float, nullable=False),
    )
    op.create_table(
        "whatif_run",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("from_month", sa.Date, nullable=False),
        sa.Column("to_month", sa.Date, nullable=False),
        sa.Column("policy", sa.Text, nullable=False),
        sa.Column("report", sa.Text, nullable=False),
        sa.Column("seconds", sa.Float, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("whatif_run")
    op.drop_table("simulation_chunk")
    op.drop_table("simulation_month")
    op.drop_index("ix_claim_care_month", "claim")
    op.drop_index("ix_verification_as_of", "verification")
    with op.batch_alter_table("visit") as batch:
        batch.drop_column("request")
