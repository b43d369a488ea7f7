"""Claims: monthly claims, review batches and the review's decisions (claims/).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "claim",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("facility_code", sa.String(10), nullable=False),
        sa.Column("payer", sa.String(1), nullable=False),
        sa.Column("care_month", sa.Date, nullable=False),
        sa.Column("billing_month", sa.Date),
        sa.Column("receipt_no", sa.Integer),
        sa.Column("patient_ref", sa.String(50), nullable=False),
        sa.Column("basis", sa.String(12)),
        sa.Column("receipt_kind", sa.String(4), nullable=False),
        sa.Column("insurer_number", sa.String(8), nullable=False),
        sa.Column("symbol", sa.String(20), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("branch", sa.String(2), nullable=False),
        sa.Column("qualification_id", BigId),
        sa.Column("unknown", sa.Boolean, nullable=False),
        sa.Column("relation", sa.String(6)),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kana", sa.String(100)),
        sa.Column("birth_date", sa.Date, nullable=False),
        sa.Column("sex", sa.SmallInteger),
        sa.Column("copay_percent", sa.SmallInteger, nullable=False),
        sa.Column("days", sa.SmallInteger, nullable=False),
        sa.Column("days_mask", sa.Integer, nullable=False),
        sa.Column("first_day", sa.Date, nullable=False),
        sa.Column("last_day", sa.Date, nullable=False),
        sa.Column("points", sa.Integer, nullable=False),
        sa.Column("copay_amount", sa.Integer),
        sa.Column("remarks", sa.Text),
        sa.Column("kana_key", sa.String(100)),
        sa.Column("address_key", sa.String(200)),
        sa.Column("checks", sa.Text),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("origin", sa.String(8), nullable=False),
        sa.Column("reclaim_of", BigId, sa.ForeignKey("claim.id"), unique=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("facility_code", "billing_month", "payer", "receipt_no", name="uq_claim_receipt"),
    )
    op.create_index("ix_claim_facility_month", "claim", ["facility_code", "care_month"])
    op.create_index("ix_claim_billing", "claim", ["billing_month", "status"])
    op.create_table(
        "review_run",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("billing_month", sa.Date, nullable=False),
        sa.Column("review_date", sa.Date, nullable=False),
        sa.Column("payer", sa.String(1)),
        sa.Column("claims", sa.Integer, nullable=False),
        sa.Column("milliseconds", sa.Integer, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "claim_review",
        sa.Column("run_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("claim_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("part", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("outcome", sa.String(10)),
        sa.Column("confirm_code", sa.String(2)),
        sa.Column("rule", sa.String(8)),
        sa.Column("person_id", BigId),
        sa.Column("billed_qualification_id", BigId),
        sa.Column("qualification_id", BigId),
        sa.Column("insurer_number", sa.String(8)),
        sa.Column("symbol", sa.String(20)),
        sa.Column("number", sa.String(20)),
        sa.Column("branch", sa.String(2)),
        sa.Column("days_mask", sa.Integer),
        sa.Column("days", sa.SmallInteger),
        sa.Column("reason", sa.String(300)),
    )
    op.create_index("ix_claim_review_claim", "claim_review", ["claim_id"])


def downgrade() -> None:
    op.drop_table("claim_review")
    op.drop_table("review_run")
    op.drop_table("claim")
