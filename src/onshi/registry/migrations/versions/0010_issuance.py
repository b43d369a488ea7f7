"""Insurer issuance (issue 12): what the rules of ../shared/domain/ISSUANCE.md need.

- `issuance_setting`: each insurer's options (InsurerOptions.stored()) and print settings;
- `member_event`: acquisition, changes, registration done and loss, recorded by the insurer
  operations (R-I4a, R-I4b, R-I5, R-I7c);
- `certificate_application`: applications for a 資格確認書 and their decision (R-I3f, R-I3g);
- `issuance_run` and `document_end`: the runs, and the held documents they ended (R-I7);
- document: the rules that decided it and the run it came from, at most one per member, kind
  and day from a run; card: 利用登録解除 and カード返納 (R-I3c); qualification: the mailing
  address the member gave (R-I3e).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
FROM_RUN = sa.text("run_id IS NOT NULL")
RUNNING = sa.text("status = 'running'")


def upgrade() -> None:
    # Plain ADD COLUMN (no table copy on SQLite).
    op.add_column("qualification", sa.Column("mailing_address", sa.String(200)))
    op.add_column("qualification", sa.Column("mailing_postcode", sa.String(8)))
    op.add_column("card", sa.Column("registration_cancelled", sa.Date))
    op.add_column("card", sa.Column("returned", sa.Date))
    op.add_column("document", sa.Column("rules", sa.String(200)))
    op.add_column("document", sa.Column("run_id", BigId))
    op.create_index("ix_document_run", "document", ["run_id"])
    op.create_index("ix_document_expires", "document", ["expires"])
    op.create_index("uq_document_run_issue", "document", ["qualification_id", "kind", "issued"], unique=True,
                    postgresql_where=FROM_RUN, sqlite_where=FROM_RUN)

    op.create_table(
        "issuance_setting",
        sa.Column("insurer_number", sa.String(8), sa.ForeignKey("insurer.number"), primary_key=True),
        sa.Column("options", sa.Text, nullable=False),
        sa.Column("certificate_form", sa.String(8), nullable=False),
        sa.Column("issuer_name", sa.String(100)),
        sa.Column("sender_postcode", sa.String(8)),
        sa.Column("sender_address", sa.String(200)),
        sa.Column("phone", sa.String(20)),
        sa.Column("updated_at", sa.DateTime(timezone=True)),
    )
    op.create_table(
        "member_event",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("qualification_id", BigId, sa.ForeignKey("qualification.id"), nullable=False),
        sa.Column("insurer_number", sa.String(8), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("recorded", sa.Date, nullable=False),
    )
    op.create_index("ix_member_event_qualification", "member_event", ["qualification_id"])
    op.create_index("ix_member_event_recorded", "member_event", ["recorded"])
    op.create_table(
        "certificate_application",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("qualification_id", BigId, sa.ForeignKey("qualification.id"), nullable=False),
        sa.Column("insurer_number", sa.String(8), nullable=False),
        sa.Column("date", sa.Date, nullable=False),
        sa.Column("reason", sa.String(12), nullable=False),
        sa.Column("recorded", sa.Date, nullable=False),
        sa.Column("decision", sa.String(10)),
        sa.Column("decided", sa.Date),
        sa.Column("decided_run", BigId),
        sa.UniqueConstraint("qualification_id", "date", "reason", name="uq_certificate_application"),
    )
    op.create_index("ix_certificate_application_qualification", "certificate_application", ["qualification_id"])
    op.create_table(
        "issuance_run",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("scope", sa.String(8), nullable=False),
        sa.Column("run_date", sa.Date, nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("origin", sa.String(8), nullable=False),
        sa.Column("request_id", sa.String(64)),
        sa.Column("owner", sa.String(120)),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("candidates", sa.Integer),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("warnings", sa.Text, nullable=False),
        sa.Column("error", sa.Text),
        sa.UniqueConstraint("scope", "request_id", name="uq_issuance_run_request"),
    )
    op.create_index("ix_issuance_run_scope_date", "issuance_run", ["scope", "run_date"])
    op.create_index("uq_issuance_run_live", "issuance_run", ["scope"], unique=True, postgresql_where=RUNNING, sqlite_where=RUNNING)
    op.create_table(
        "document_end",
        sa.Column("id", BigId, primary_key=True, autoincrement=True),
        sa.Column("document_id", BigId, sa.ForeignKey("document.id"), nullable=False),
        sa.Column("run_id", BigId, sa.ForeignKey("issuance_run.id"), nullable=False),
        sa.Column("replaced_by", BigId, sa.ForeignKey("document.id")),
        sa.Column("previous_expires", sa.Date),
        sa.Column("valid_until", sa.Date, nullable=False),
        sa.Column("rules", sa.String(60), nullable=False),
        sa.UniqueConstraint("document_id", "run_id", name="uq_document_end"),
    )
    op.create_index("ix_document_end_run", "document_end", ["run_id"])
    op.create_index("ix_document_end_replaced_by", "document_end", ["replaced_by"])


def downgrade() -> None:
    op.drop_index("ix_document_end_replaced_by", "document_end")
    op.drop_index("ix_document_end_run", "document_end")
    op.drop_table("document_end")
    op.drop_index("uq_issuance_run_live", "issuance_run")
    op.drop_index("ix_issuance_run_scope_date", "issuance_run")
    op.drop_table("issuance_run")
    op.drop_index("ix_certificate_application_qualification", "certificate_application")
    op.drop_table("certificate_application")
    op.drop_index("ix_member_event_recorded", "member_event")
    op.drop_index("ix_member_event_qualification", "member_event")
    op.drop_table("member_event")
    op.drop_table("issuance_setting")
    # Plain DROP COLUMN (SQLite ≥ 3.35, PostgreSQL): no table copy.
    op.drop_index("uq_document_run_issue", "document")
    op.drop_index("ix_document_expires", "document")
    op.drop_index("ix_document_run", "document")
    op.drop_column("document", "run_id")
    op.drop_column("document", "rules")
    op.drop_column("card", "returned")
    op.drop_column("card", "registration_cancelled")
    op.drop_column("qualification", "mailing_postcode")
    op.drop_column("qualification", "mailing_address")
