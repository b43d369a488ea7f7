"""Statistics summary (issue 13): the month's counts behind R-S1 and R-S2 by facility, insurer
and age band (`stats_summary`), written when a month is summarized (`onshi stats summarize`,
the end of each simulated month), with the watermarks that tell whether the month has changed
since (`stats_summary_month`). The month indexes of verifications and claims carry the id so
that the watermark check reads the index only.

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "stats_summary",
        sa.Column("month", sa.Date, primary_key=True),
        sa.Column("facility_code", sa.String(10), primary_key=True),
        sa.Column("insurer_number", sa.String(8), primary_key=True),
        sa.Column("age_band", sa.String(8), primary_key=True),
        sa.Column("card_uses", sa.Integer, nullable=False),
        sa.Column("verifications", sa.Integer, nullable=False),
        sa.Column("claim_users", sa.Integer, nullable=False),
        sa.Column("outpatient_users", sa.Integer, nullable=False),
        sa.Column("claims", sa.Integer, nullable=False),
        sa.Column("outpatient_claims", sa.Integer, nullable=False),
    )
    op.create_index("ix_stats_summary_insurer", "stats_summary", ["insurer_number", "month"])
    op.create_table(
        "stats_summary_month",
        sa.Column("month", sa.Date, primary_key=True),
        sa.Column("verification_max_id", BigId, nullable=False),
        sa.Column("verifications", BigId, nullable=False),
        sa.Column("claim_max_id", BigId, nullable=False),
        sa.Column("claims", BigId, nullable=False),
        sa.Column("rows", BigId, nullable=False),
        sa.Column("seconds", sa.Float, nullable=False),
        sa.Column("summarized_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.drop_index("ix_verification_as_of", "verification")
    op.create_index("ix_verification_as_of", "verification", ["as_of", "id"])
    op.drop_index("ix_claim_care_month", "claim")
    op.create_index("ix_claim_care_month", "claim", ["care_month", "id"])


def downgrade() -> None:
    op.drop_index("ix_claim_care_month", "claim")
    op.create_index("ix_claim_care_month", "claim", ["care_month"])
    op.drop_index("ix_verification_as_of", "verification")
    op.create_index("ix_verification_as_of", "verification", ["as_of"])
    op.drop_table("stats_summary_month")
    op.drop_index("ix_stats_summary_insurer", "stats_summary")
    op.drop_table("stats_summary")
