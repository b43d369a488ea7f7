"""API keys for operators (`onshi keys create|list|revoke`) and the deployment's settings.

A key is random (security.new_api_key), printed once and stored as its SHA-256 digest; its
public id is the digest's first 12 characters. Revoking keeps the row (with `revoked_at`) so
the record stays; `Registry.authenticate` re-reads a key within KEY_TTL seconds, so a
revocation reaches every worker within that time, and the pages' sessions end with it.
"""

from __future__ import annotations

import os

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.exc import IntegrityError

from .. import config
from ..domain.errors import Conflict, InputError, NotFound
from .schema import api_key, facility, insurer, setting
from .security import ROLES, api_key_hash, key_id, new_api_key, new_secret

REVIEWER_SUBJECTS = ("1", "2", "all")  # 支払基金, 国保連, both


def check_subject(conn: Connection, role: str, subject: str) -> str:
    """The subject a key of `role` acts for must exist (a facility, an insurer…)."""
    if role not in ROLES:
        raise InputError("role", f"must be one of {', '.join(ROLES)}")
    subject = (subject or "").strip()
    if not subject or len(subject) > 10:
        raise InputError("subject", "must be 1–10 characters")
    if role == "facility" and conn.execute(select(facility.c.code).where(facility.c.code == subject)).first() is None:
        raise NotFound("subject", f"unknown facility {subject}")
    if role == "insurer" and conn.execute(select(insurer.c.number).where(insurer.c.number == subject)).first() is None:
        raise NotFound("subject", f"unknown insurer {subject}")
    if role == "reviewer" and subject not in REVIEWER_SUBJECTS:
        raise InputError("subject", "a reviewer key acts for 1 (支払基金), 2 (国保連) or all")
    return subject


def create_key(engine: Engine, role: str, subject: str, label: str = "") -> tuple[str, dict]:
    """A new random key for (role, subject): (the key — shown once —, its record)."""
    with engine.begin() as conn:
        subject = check_subject(conn, role, subject)
        key = new_api_key(role)
        row = {"key_hash": api_key_hash(key), "role": role, "subject": subject, "label": label[:100], "created_at": config.now()}
        conn.execute(insert(api_key).values(**row))
    return key, _record(row)


def list_keys(engine: Engine, role: str | None = None, subject: str | None = None, revoked: bool = False) -> list[dict]:
    stmt = select(api_key).order_by(api_key.c.role, api_key.c.subject, api_key.c.created_at)
    if role:
        stmt = stmt.where(api_key.c.role == role)
    if subject:
        stmt = stmt.where(api_key.c.subject == subject)
    if not revoked:
        stmt = stmt.where(api_key.c.revoked_at.is_(None))
    with engine.connect() as conn:
        return [_record(r) for r in conn.execute(stmt).mappings()]


def revoke_key(engine: Engine, ident: str) -> dict:
    """Revoke the key whose id (a prefix of its digest, at least 8 characters) or clear key is `ident`."""
    ident = (ident or "").strip()
    digest = api_key_hash(ident) if "_" in ident else None
    if digest is None and (len(ident) < 8 or any(c not in "0123456789abcdef" for c in ident)):
        raise InputError("key_id", "give the key's id (onshi keys list) or the key itself")
    with engine.begin() as conn:
        cond = api_key.c.key_hash == digest if digest else api_key.c.key_hash.startswith(ident, autoescape=True)
        rows = conn.execute(select(api_key).where(cond)).mappings().all()
        if not rows:
            raise NotFound("key_id", f"no key {ident}")
        if len(rows) > 1:
            raise Conflict("key_id", f"{len(rows)} keys start with {ident}: give more of the id")
        row = dict(rows[0])
        if row["revoked_at"] is None:
            row["revoked_at"] = config.now()
            conn.execute(update(api_key).where(api_key.c.key_hash == row["key_hash"]).values(revoked_at=row["revoked_at"]))
    return _record(row)


def revoke_labelled(conn: Connection, role: str, subject: str, label: str) -> None:
    conn.execute(
        update(api_key).where(api_key.c.role == role, api_key.c.subject == subject, api_key.c.label == label,
                              api_key.c.revoked_at.is_(None)).values(revoked_at=config.now())
    )


def _record(row) -> dict:  # noqa: ANN001
    return {"id": key_id(row["key_hash"]), "role": row["role"], "subject": row["subject"], "label": row["label"],
            "created_at": row.get("created_at"), "revoked_at": row.get("revoked_at")}


# ---------------------------------------------------------------- settings kept in the database


def get_setting(engine: Engine, name: str) -> str | None:
    with engine.connect() as conn:
        return conn.execute(select(setting.c.value).where(setting.c.name == name)).scalar()


def put_setting(conn: Connection, name: str, value: str) -> None:
    if conn.execute(select(setting.c.name).where(setting.c.name == name)).first() is None:
        conn.execute(insert(setting).values(name=name, value=value))
    else:
        conn.execute(update(setting).where(setting.c.name == name).values(value=value))


def session_secret(engine: Engine) -> str:
    """ONSHI_SESSION_SECRET, else a random secret made once per deployment and kept in the
    database, so that every worker and restart signs alike (never derived from a known value)."""
    configured = os.environ.get("ONSHI_SESSION_SECRET")
    if configured:
        return configured
    found = get_setting(engine, "session_secret")
    if found:
        return found
    try:
        with engine.begin() as conn:
            conn.execute(insert(setting).values(name="session_secret", value=new_secret()))
    except IntegrityError:
        pass  # another worker made it first: use theirs
    return get_setting(engine, "session_secret")


def attach_keys(engine: Engine, people: list[dict], label: str) -> list[dict]:
    """Fresh keys for the facilities and insurers of `people` (sample_people), labelled
    `label` ("demo", "bench"): each earlier key of that label and subject is revoked first,
    so a printed demo or benchmark key is the only one of its kind that works."""
    minted: dict[tuple[str, str], str] = {}
    for p in people:
        for role, field, subject in (("facility", "facility_key", p["facility_code"]), ("insurer", "insurer_key", p["insurer_number"])):
            if (role, subject) not in minted:
                with engine.begin() as conn:
                    revoke_labelled(conn, role, subject, label)
                minted[(role, subject)] = create_key(engine, role, subject, label)[0]
            p[field] = minted[(role, subject)]
    return people


def demo_keys(engine: Engine, facility_code: str, insurer_number: str) -> tuple[str, str]:
    """Fresh demo keys for the demo facility and insurer (earlier demo keys of both revoked)."""
    out = []
    for role, subject in (("facility", facility_code), ("insurer", insurer_number)):
        with engine.begin() as conn:
            revoke_labelled(conn, role, subject, "demo")
        out.append(create_key(engine, role, subject, "demo")[0])
    return out[0], out[1]
