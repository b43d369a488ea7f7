"""Facility interfaces: 照会番号 (reference_number) and bulk requests (bulk_request).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "reference_number",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("facility_code", sa.String(10), nullable=False),
        sa.Column("reference_number", sa.String(50), nullable=False),
        sa.Column("insurer_number", sa.String(8), nullable=False),
        sa.Column("symbol", sa.String(20), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("branch", sa.String(2), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("facility_code", "insurer_number", "number", "symbol", "branch", name="uq_reference_number_numbers"),
    )
    op.create_table(
        "bulk_request",
        sa.Column("reception_number", sa.String(20), primary_key=True),
        sa.Column("facility_code", sa.String(10), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("as_of", sa.Date),
        sa.Column("entries", sa.Integer, nullable=False),
        sa.Column("request", sa.Text, nullable=False),
        sa.Column("result", sa.Text),
        sa.Column("normal", sa.Integer),
        sa.Column("errors", sa.Integer),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_bulk_request_status", "bulk_request", ["status"])


def downgrade() -> None:
    op.drop_table("bulk_request")
    op.drop_table("reference_number")
