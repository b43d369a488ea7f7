"""The central registry: insurers, facilities, keys, persons, qualifications, cards,
documents, resident register, insurer operations and the verification log.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "insurer",
        sa.Column("number", sa.String(8), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("prefecture", sa.SmallInteger, nullable=False),
    )
    op.create_table(
        "facility",
        sa.Column("code", sa.String(10), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("prefecture", sa.SmallInteger, nullable=False),
        sa.Column("online", sa.Boolean, nullable=False),
        sa.Column("smartphone", sa.Boolean, nullable=False),
        sa.Column("mobile_consent", sa.Boolean, nullable=False),
    )
    op.create_table(
        "api_key",
        sa.Column("key_hash", sa.String(64), primary_key=True),
        sa.Column("role", sa.String(10), nullable=False),
        sa.Column("subject", sa.String(10), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
    )
    op.create_table(
        "person",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("my_number_hash", sa.String(64), unique=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kana", sa.String(100), nullable=False),
        sa.Column("birth_date", sa.Date, nullable=False),
        sa.Column("sex", sa.SmallInteger, nullable=False),
        sa.Column("address", sa.String(200)),
        sa.Column("postcode", sa.String(8)),
        sa.Column("dv_flag", sa.Boolean, nullable=False),
    )
    op.create_table(
        "qualification",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("person_id", BigId, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("insurer_number", sa.String(8), sa.ForeignKey("insurer.number"), nullable=False),
        sa.Column("symbol", sa.String(20), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("branch", sa.String(2), nullable=False),
        sa.Column("relation", sa.String(6), nullable=False),
        sa.Column("insured_name", sa.String(100)),
        sa.Column("card_classification", sa.String(2), nullable=False),
        sa.Column("start", sa.Date, nullable=False),
        sa.Column("end", sa.Date),
        sa.Column("loss_reason", sa.String(2)),
        sa.Column("income", sa.String(8), nullable=False),
        sa.Column("kouki_ratio", sa.SmallInteger),
        sa.Column("limit_category", sa.String(3)),
        sa.Column("limit_start", sa.Date),
        sa.Column("limit_end", sa.Date),
        sa.Column("notified", sa.Date),
        sa.Column("registered", sa.Date),
    )
    op.create_index("ix_qualification_numbers", "qualification", ["insurer_number", "number", "symbol", "branch"])
    op.create_index("ix_qualification_person", "qualification", ["person_id"])
    op.create_table(
        "card",
        sa.Column("serial", sa.String(16), primary_key=True),
        sa.Column("person_id", BigId, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("issued", sa.Date, nullable=False),
        sa.Column("card_expires", sa.Date, nullable=False),
        sa.Column("cert_expires", sa.Date, nullable=False),
        sa.Column("insurance_registered", sa.Date),
        sa.Column("revoked", sa.Date),
    )
    op.create_index("ix_card_person", "card", ["person_id"])
    op.create_table(
        "document",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("person_id", BigId, sa.ForeignKey("person.id"), nullable=False),
        sa.Column("qualification_id", BigId, sa.ForeignKey("qualification.id")),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("form", sa.String(10)),
        sa.Column("issued", sa.Date),
        sa.Column("expires", sa.Date),
    )
    op.create_index("ix_document_person", "document", ["person_id"])
    op.create_table(
        "resident",
        sa.Column("my_number_hash", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kana", sa.String(100), nullable=False),
        sa.Column("birth_date", sa.Date, nullable=False),
        sa.Column("sex", sa.SmallInteger, nullable=False),
        sa.Column("address", sa.String(200), nullable=False),
    )
    op.create_table(
        "operation",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("insurer_number", sa.String(8), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("payload_digest", sa.String(64), nullable=False),
        sa.Column("response", sa.Text, nullable=False),
        sa.Column("person_id", BigId),
        sa.Column("qualification_id", BigId),
        sa.Column("notified", sa.Date),
        sa.Column("registered", sa.Date, nullable=False),
        sa.Column("deadline_days", sa.SmallInteger),
        sa.Column("days_taken", sa.Integer),
        sa.Column("deadline_met", sa.Boolean),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("insurer_number", "request_id", name="uq_operation_request"),
    )
    op.create_table(
        "verification",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("facility_code", sa.String(10), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("as_of", sa.Date, nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("identity", sa.String(8)),
        sa.Column("result", sa.String(16), nullable=False),
        sa.Column("error", sa.String(32)),
        sa.Column("person_id", BigId),
        sa.Column("qualification_id", BigId),
        sa.Column("channel", sa.String(8), nullable=False),
    )
    op.create_index("ix_verification_facility_at", "verification", ["facility_code", "at"])
    _append_only("verification")


def _append_only(table: str) -> None:
    """The verification log can be added to, never changed (triggers on both databases)."""
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "CREATE FUNCTION onshi_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN RAISE EXCEPTION '% is append-only', TG_TABLE_NAME; END $$"
        )
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION onshi_append_only()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{action.lower()} BEFORE {action} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"
            )


def downgrade() -> None:
    for table in ("verification", "operation", "resident", "document", "card", "qualification", "person", "api_key", "facility", "insurer"):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS onshi_append_only()")
