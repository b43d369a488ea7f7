"""Codes compared byte by byte (issue 14): on PostgreSQL the registry's keys — the 個人番号
hash of person and resident, the card serial, the insurer number and its references, the
qualification's 記号・番号・枝番 — take COLLATE "C" (schema.Code).

They are digits, hex and the few characters a 記号 holds; the server's locale adds nothing to
comparing them but cost: with a locale (even C.UTF-8 on PostgreSQL 15) every comparison goes
through strcoll and sorts get no abbreviated keys. Measured on a 10-million-person registry,
one index alone: the hash's unique index 24.6 s → 5.1 s, the card serial's 24.0 s → 3.7 s,
ix_qualification_numbers 24.8 s → 8.4 s (README "Benchmarks", Seeding). Their order is now the code
points' — SQLite's (BINARY) and C.UTF-8's already.

Equality is unchanged (every collation involved is deterministic), and a comparison with a
column of the default collation takes "C" (PostgreSQL's collation derivation), so joins with
the claim's and the reference's numbers need no COLLATE. The indexes on these columns are
rebuilt by the ALTER: 32 s on 10 million people. SQLite: nothing to do.

Revision ID: 0012
Revises: 0011
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# table → (column, varchar length); the referenced insurer number first, then its references
COLUMNS = {
    "insurer": [("number", 8)],
    "person": [("my_number_hash", 64)],
    "resident": [("my_number_hash", 64)],
    "qualification": [("insurer_number", 8), ("symbol", 20), ("number", 20), ("branch", 2)],
    "card": [("serial", 16)],
    "issuance_setting": [("insurer_number", 8)],
}


def _collate(collation: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in COLUMNS.items():  # one ALTER a table: its indexes are rebuilt once
        op.execute(f"ALTER TABLE {table} " + ", ".join(f'ALTER COLUMN "{c}" TYPE varchar({n}) COLLATE "{collation}"' for c, n in columns))


def upgrade() -> None:
    _collate("C")


def downgrade() -> None:
    _collate("default")
