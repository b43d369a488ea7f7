"""What each insurer asserts about its members, read per insurer.

Since migration 0008 the name, kana, address, postcode and DV flag (R-D5; ISSUANCE R-I3e
自己情報提供不可フラグ) are the insurer's own, on each of its qualifications: another
insurer's acquisition or change cannot touch them. The flag of any insurer protects the
person's address in every channel until that insurer lifts it (lookup.dv_protected).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, Connection, exists, or_, select

from ..domain.errors import NotFound
from . import models
from .schema import qualification


def dv_flag_of(insurer_number, person_id) -> ColumnElement[bool]:  # noqa: ANN001
    """SQL: this insurer set the DV flag for this person (on any of its qualifications, ended
    or not). Arguments are values or columns, so a run over many members stays one query."""
    q = qualification.alias("dv")
    return exists().where(q.c.insurer_number == insurer_number, q.c.person_id == person_id, q.c.dv_flag.is_(True))


def dv_protected(person_id) -> ColumnElement[bool]:  # noqa: ANN001
    """SQL: some insurer's DV flag protects this person (R-D5)."""
    q = qualification.alias("dvp")
    return exists().where(q.c.person_id == person_id, q.c.dv_flag.is_(True))


def insurer_dv_flag(conn: Connection, insurer_number: str, person_id: int) -> bool:
    """The DV flag this insurer set for this member (R-I3e: the card cannot serve as its
    insurance card; mail goes to the address the member gave, never the protected one)."""
    return bool(conn.execute(select(dv_flag_of(insurer_number, person_id))).scalar())


def member_data(conn: Connection, insurer_number: str, person_id: int) -> dict | None:
    """What this insurer asserts about the member, on its newest qualification, with its DV
    flag over all its qualifications; None when the insurer never insured the person."""
    row = conn.execute(
        select(qualification.c.name, qualification.c.kana, qualification.c.address, qualification.c.postcode)
        .where(qualification.c.insurer_number == insurer_number, qualification.c.person_id == person_id)
        .order_by(qualification.c.start.desc(), qualification.c.id.desc())
        .limit(1)
    ).mappings().first()
    if row is None:
        return None
    return {**row, "dv_flag": insurer_dv_flag(conn, insurer_number, person_id)}


def find_qualification(conn: Connection, insurer_number: str, numbers: models.MemberNumbers):  # noqa: ANN201
    """The insurer's newest qualification on these 記号・番号・枝番 (NotFound naming `number`)."""
    cond = [
        qualification.c.insurer_number == insurer_number,
        qualification.c.symbol == numbers.symbol,
        qualification.c.number == numbers.number,
        qualification.c.branch == numbers.branch,
    ]
    row = conn.execute(select(qualification).where(*cond).order_by(qualification.c.start.desc()).limit(1)).mappings().first()
    if row is None:
        label = "-".join(x for x in (numbers.symbol, numbers.number, numbers.branch) if x)
        raise NotFound("number", f"a qualification {label} of insurer {insurer_number} was not found")
    return row


def currently_insures(conn: Connection, insurer_number: str, person_id: int, today: dt.date) -> bool:
    """The insurer holds a qualification of the person that has not ended before today."""
    return conn.execute(
        select(qualification.c.id).where(
            qualification.c.person_id == person_id,
            qualification.c.insurer_number == insurer_number,
            or_(qualification.c.end.is_(None), qualification.c.end >= today),
        ).limit(1)
    ).first() is not None
