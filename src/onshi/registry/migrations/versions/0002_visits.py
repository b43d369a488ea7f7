"""Visits at the desk and the decisions taken (front-desk engine; basis of claims).

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "visit",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("facility_code", sa.String(10), nullable=False),
        sa.Column("patient_ref", sa.String(50), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("care_date", sa.Date, nullable=False),
        sa.Column("person_id", BigId),
        sa.Column("name", sa.String(100)),
        sa.Column("kana", sa.String(100)),
        sa.Column("birth_date", sa.Date, nullable=False),
        sa.Column("sex", sa.SmallInteger),
        sa.Column("relation", sa.String(6)),
        sa.Column("presented", sa.String(200), nullable=False),
        sa.Column("device", sa.String(16), nullable=False),
        sa.Column("identity", sa.String(8)),
        sa.Column("insured", sa.Boolean, nullable=False),
        sa.Column("copay_percent", sa.SmallInteger, nullable=False),
        sa.Column("basis", sa.String(12), nullable=False),
        sa.Column("insurer_number", sa.String(8)),
        sa.Column("symbol", sa.String(20), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("branch", sa.String(2), nullable=False),
        sa.Column("qualification_id", BigId),
        sa.Column("verification_method", sa.String(16), nullable=False),
        sa.Column("verification_result", sa.String(16), nullable=False),
        sa.Column("rules", sa.String(200), nullable=False),
        sa.Column("decision", sa.Text, nullable=False),
        sa.Column("remarks", sa.Text),
    )
    op.create_index("ix_visit_facility_date", "visit", ["facility_code", "care_date"])
    op.create_index("ix_visit_facility_patient", "visit", ["facility_code", "patient_ref"])


def downgrade() -> None:
    op.drop_table("visit")
