"""`onshi keys create|list|revoke`: API keys for operators.

A key is random, printed once (standard output, nothing else on the line) and stored as its
SHA-256 digest; `list` shows each key's id (the digest's start), never a key. A revoked key
stops working on every server worker within seconds (Registry.KEY_TTL) and ends the pages'
sessions opened with it.
"""

from __future__ import annotations

import json
from typing import Annotated, Optional

import typer

from ..registry.security import ROLES
from .cli_common import DatabaseOpt, engine as _engine, err, guard as _guard, setup as _setup

keys_app = typer.Typer(help="API keys: create (printed once), list, revoke.", no_args_is_help=True)

RoleOpt = Annotated[str, typer.Option("--role", "-r", help=" | ".join(ROLES))]
SubjectOpt = Annotated[str, typer.Option("--subject", "-s", help="facility code, insurer number, 1 / 2 / all (reviewer), … (analyst)")]


def create(role: str, subject: str, label: str, database: str | None) -> None:
    from ..registry.keys import create_key

    _setup(database, None)

    def run() -> None:
        key, record = create_key(_engine(), role, subject, label)
        err.print(f"{record['role']} {record['subject']} id {record['id']} — the key is shown only now:")
        print(key)

    _guard(run)


@keys_app.command("create")
def create_cmd(
    role: RoleOpt,
    subject: SubjectOpt,
    label: Annotated[str, typer.Option(help="a name for the key (who holds it)")] = "",
    database: DatabaseOpt = None,
) -> None:
    """Create a random key for ROLE acting for SUBJECT; it is printed once and stored hashed."""
    create(role, subject, label, database)


@keys_app.command("list")
def list_cmd(
    role: Annotated[Optional[str], typer.Option("--role", "-r", help="only this role")] = None,
    subject: Annotated[Optional[str], typer.Option("--subject", "-s", help="only this subject")] = None,
    revoked: Annotated[bool, typer.Option(help="include revoked keys")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="JSON lines")] = False,
    database: DatabaseOpt = None,
) -> None:
    """The keys (id, role, subject, label, created, revoked) — never the keys themselves."""
    from ..registry.keys import list_keys

    _setup(database, None)
    for k in list_keys(_engine(), role, subject, revoked):
        row = {f: (v.isoformat(timespec="seconds") if hasattr(v, "isoformat") else v) for f, v in k.items()}
        if as_json:
            print(json.dumps(row, ensure_ascii=False))
        else:
            print("\t".join(str(row[f] or "") for f in ("id", "role", "subject", "label", "created_at", "revoked_at")))


@keys_app.command("revoke")
def revoke_cmd(
    key_id: Annotated[str, typer.Argument(help="the key's id (onshi keys list), or the key itself")],
    database: DatabaseOpt = None,
) -> None:
    """Revoke a key: every worker refuses it within seconds, and its page sessions end."""
    from ..registry.keys import revoke_key

    _setup(database, None)
    _guard(lambda: err.print(f"revoked {revoke_key(_engine(), key_id)['id']}"))
