"""Hardening (issue 10).

- What each insurer asserts about a member (name, kana, address, postcode, the DV flag of
  R-D5 / 自己情報提供不可フラグ of R-I3e) moves from the shared person row to each of its
  qualifications: one insurer can no longer overwrite another's data or clear its flag.
  Existing rows are copied to every qualification of the person.
- Constraints that concurrent writes cannot break: one open qualification per person and
  insurer, one open holder of each 保険者番号+記号+番号+枝番, one current card per person
  (partial unique indexes, on SQLite and PostgreSQL alike).
- API keys get their creation and revocation time; keys that `onshi seed` derived from a
  public seed before this revision are revoked (anyone could compute them).
- `setting` (the session secret when none is configured, the demo marker) and
  `web_session` (server-side sessions of the reception pages: logout and revocation end them).
- PostgreSQL: a trigger refuses TRUNCATE on the verification log, as UPDATE and DELETE are.

Revision ID: 0008
Revises: 0007
"""

import datetime as dt
import hashlib
import hmac

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

MEMBER_COLUMNS = ("name", "kana", "address", "postcode", "dv_flag")
OPEN = sa.text('"end" IS NULL')
CURRENT_CARD = sa.text("revoked IS NULL")
SEEDS_CHECKED = 100  # `onshi serve` seeds with 1; tests and benchmarks used small seeds


def _member_columns() -> list[sa.Column]:
    return [
        sa.Column("name", sa.String(100), nullable=False, server_default=""),
        sa.Column("kana", sa.String(100), nullable=False, server_default=""),
        sa.Column("address", sa.String(200)),
        sa.Column("postcode", sa.String(8)),
        sa.Column("dv_flag", sa.Boolean, nullable=False, server_default=sa.false()),
    ]


def upgrade() -> None:
    bind = op.get_bind()
    pg = bind.dialect.name == "postgresql"

    # ---- member data per qualification, copied from the person
    for column in _member_columns():
        op.add_column("qualification", column)
    op.execute(
        "UPDATE qualification SET (name, kana, address, postcode, dv_flag) = "
        "(SELECT p.name, p.kana, p.address, p.postcode, p.dv_flag FROM person p WHERE p.id = qualification.person_id)"
    )
    for name in MEMBER_COLUMNS:
        op.drop_column("person", name)

    # ---- what concurrent writes must not create
    op.create_index("uq_qualification_open_member", "qualification", ["person_id", "insurer_number"], unique=True,
                    postgresql_where=OPEN, sqlite_where=OPEN)
    op.create_index("uq_qualification_open_numbers", "qualification", ["insurer_number", "symbol", "number", "branch"], unique=True,
                    postgresql_where=OPEN, sqlite_where=OPEN)
    op.create_index("uq_card_current", "card", ["person_id"], unique=True, postgresql_where=CURRENT_CARD, sqlite_where=CURRENT_CARD)

    # ---- API keys: created / revoked; keys derived from a public seed are revoked
    op.add_column("api_key", sa.Column("created_at", sa.DateTime(timezone=True)))
    op.add_column("api_key", sa.Column("revoked_at", sa.DateTime(timezone=True)))
    keys = sa.table("api_key", sa.column("key_hash", sa.String), sa.column("role", sa.String), sa.column("subject", sa.String),
                    sa.column("revoked_at", sa.DateTime(timezone=True)))
    derived = [
        row.key_hash for row in bind.execute(sa.select(keys.c.key_hash, keys.c.role, keys.c.subject))
        if any(hashlib.sha256(_derived_key(row.role, row.subject, s).encode()).hexdigest() == row.key_hash for s in range(SEEDS_CHECKED))
    ]
    if derived:
        bind.execute(keys.update().where(keys.c.key_hash.in_(derived)).values(revoked_at=dt.datetime.now(dt.timezone.utc)))

    op.create_table(
        "setting",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "web_session",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_web_session_key", "web_session", ["key_hash"])

    if pg:  # statement-level: TRUNCATE bypasses the row triggers of revision 0001
        op.execute(
            "CREATE TRIGGER verification_no_truncate BEFORE TRUNCATE ON verification "
            "FOR EACH STATEMENT EXECUTE FUNCTION onshi_append_only()"
        )


def _derived_key(role: str, subject: str, seed: int) -> str:
    """The key `onshi seed` gave (role, subject) before this revision (security.derived_api_key)."""
    prefix = {"facility": "fk", "insurer": "ik"}.get(role, "k")
    digest = hmac.new(f"onshi-demo-{seed}".encode(), f"{role}:{subject}".encode(), hashlib.sha256).hexdigest()
    return f"{prefix}_{subject}_{digest[:24]}"


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS verification_no_truncate ON verification")
    op.drop_index("ix_web_session_key", "web_session")
    op.drop_table("web_session")
    op.drop_table("setting")
    op.drop_column("api_key", "revoked_at")
    op.drop_column("api_key", "created_at")
    op.drop_index("uq_card_current", "card")
    op.drop_index("uq_qualification_open_numbers", "qualification")
    op.drop_index("uq_qualification_open_member", "qualification")
    # The person gets back what its newest qualification asserts (and the DV flag if any had it).
    op.add_column("person", sa.Column("name", sa.String(100), nullable=False, server_default=""))
    op.add_column("person", sa.Column("kana", sa.String(100), nullable=False, server_default=""))
    op.add_column("person", sa.Column("address", sa.String(200)))
    op.add_column("person", sa.Column("postcode", sa.String(8)))
    op.add_column("person", sa.Column("dv_flag", sa.Boolean, nullable=False, server_default=sa.false()))
    newest = "SELECT {col} FROM qualification q WHERE q.person_id = person.id ORDER BY q.start DESC, q.id DESC LIMIT 1"
    op.execute(
        "UPDATE person SET "
        + ", ".join(f"{c} = COALESCE(({newest.format(col=c)}), {c})" for c in ("name", "kana", "address", "postcode"))
        + ", dv_flag = EXISTS (SELECT 1 FROM qualification q WHERE q.person_id = person.id AND q.dv_flag)"
    )
    for name in MEMBER_COLUMNS:
        op.drop_column("qualification", name)
