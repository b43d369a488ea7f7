"""What the facility interfaces return about the documents a member holds (issue 9):
the 資格確認書's first valid day, the 限度額適用認定証's issue date, the 限度額 consent of a
verification (FHIR Coverage read), and the indexes their lookups use.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy on SQLite): the verification log keeps its append-only triggers.
    op.add_column("document", sa.Column("valid_from", sa.Date))
    op.create_index("ix_document_qualification", "document", ["qualification_id"])
    op.add_column("qualification", sa.Column("limit_issued", sa.Date))
    op.add_column("verification", sa.Column("limit_consent", sa.Boolean))
    op.create_index("ix_verification_facility_person", "verification", ["facility_code", "person_id"])


def downgrade() -> None:
    # Plain DROP COLUMN (SQLite ≥ 3.35, PostgreSQL): no table copy, the triggers stay.
    op.drop_index("ix_verification_facility_person", "verification")
    op.drop_column("verification", "limit_consent")
    op.drop_column("qualification", "limit_issued")
    op.drop_index("ix_document_qualification", "document")
    op.drop_column("document", "valid_from")
