"""Insurer operations of issue 12 (ISSUANCE.md): an application for a 資格確認書 (R-I3f, R-I3g),
利用登録解除 and カード返納 (R-I3c). They run inside `operations.run` like every insurer
operation: validated, atomic, idempotent under the request id, only for the insurer's own
current members (another insurer's member is a 404 or 403 that says nothing about them).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field
from sqlalchemy import Connection, insert, select, update

from ..domain.errors import Conflict, Forbidden, InputError, NotFound
from .members import currently_insures, find_qualification
from .models import Day, MemberNumbers, RequestId, _Base
from .schema import card, certificate_application

APPLICATION_REASONS = ("care", "card_lost", "card_renewal", "other")  # 要配慮者 / 紛失 / 更新中 / その他
Serial = Field(pattern=r"^[0-9A-Z]{8,16}$")


class CertificateApplication(MemberNumbers):
    """資格確認書の交付申請 by a member (R-I3f): the day it was made and why."""

    request_id: str = RequestId
    date: Day = Field(description="the day the member applied")
    reason: Literal["care", "card_lost", "card_renewal", "other"] = Field(
        description="care 要配慮者 (kept on renewals) | card_lost | card_renewal (until the card works again, R-I7d) | other (granted to 後期 only, R-I3g)")


class CardCancellation(_Base):
    """利用登録解除: the member cancels the card's insurance registration (R-I3c)."""

    request_id: str = RequestId
    serial: str = Serial
    cancelled_on: Day | None = Field(None, description="default: today")


class CardReturn(_Base):
    """カード返納: the member returned the My Number card (R-I3c); it no longer verifies."""

    request_id: str = RequestId
    serial: str = Serial
    returned_on: Day | None = Field(None, description="default: today")


def apply_for_certificate(conn: Connection, insurer_number: str, p: CertificateApplication, today: dt.date) -> dict:
    if p.date > today:
        raise InputError("date", "is after today")
    row = find_qualification(conn, insurer_number, p)
    if row["end"] is not None and row["end"] < p.date:
        raise Conflict("date", f"the qualification ended on {row['end'].isoformat()}, before the application")
    if row["end"] is not None and row["end"] < today:
        raise Conflict("number", f"qualification ended on {row['end'].isoformat()}: an insurer records applications only of members it currently insures")
    if p.date < row["start"] - dt.timedelta(days=366):
        raise InputError("date", "is more than a year before the qualification starts")
    taken = conn.execute(
        select(certificate_application.c.id).where(
            certificate_application.c.qualification_id == row["id"], certificate_application.c.date == p.date,
            certificate_application.c.reason == p.reason,
        )
    ).first()
    if taken is not None:
        raise Conflict("date", "this application (same day and reason) is already recorded")
    app_id = conn.execute(
        insert(certificate_application).values(
            qualification_id=row["id"], insurer_number=insurer_number, date=p.date, reason=p.reason, recorded=today,
        ).returning(certificate_application.c.id)
    ).scalar_one()
    return {"person_id": row["person_id"], "qualification_id": row["id"], "application_id": app_id, "date": p.date.isoformat(), "reason": p.reason}


def _member_card(conn: Connection, insurer_number: str, serial: str, today: dt.date):  # noqa: ANN202
    row = conn.execute(select(card).where(card.c.serial == serial)).mappings().first()
    if row is None:
        raise NotFound("serial", "no card with this serial is linked")
    if not currently_insures(conn, insurer_number, row["person_id"], today):
        raise Forbidden("serial", f"the card holder is not a member of insurer {insurer_number}")
    return row


def _day(value: dt.date | None, field: str, today: dt.date, after: dt.date, what: str) -> dt.date:
    day = value or today
    if day > today:
        raise InputError(field, "is after today")
    if day < after:
        raise InputError(field, f"is before {what} ({after.isoformat()})")
    return day


def cancel_registration(conn: Connection, insurer_number: str, p: CardCancellation, today: dt.date) -> dict:
    row = _member_card(conn, insurer_number, p.serial, today)
    if row["revoked"] is not None:
        raise Conflict("serial", "this card has been replaced or returned")
    if row["insurance_registered"] is None:
        raise Conflict("serial", "this card is not registered for insurance use")
    day = _day(p.cancelled_on, "cancelled_on", today, row["insurance_registered"], "the registration")
    # The card stops answering as マイナ保険証 (lookups read insurance_registered); R-I3c keeps the day.
    conn.execute(update(card).where(card.c.serial == p.serial).values(insurance_registered=None, registration_cancelled=day))
    return {"person_id": row["person_id"], "serial": p.serial, "registration_cancelled": day.isoformat()}


def return_card(conn: Connection, insurer_number: str, p: CardReturn, today: dt.date) -> dict:
    row = _member_card(conn, insurer_number, p.serial, today)
    if row["returned"] is not None:
        raise Conflict("serial", f"this card was returned on {row['returned'].isoformat()}")
    if row["revoked"] is not None:
        raise Conflict("serial", "this card has been replaced")
    day = _day(p.returned_on, "returned_on", today, row["issued"], "the card's issue")
    conn.execute(update(card).where(card.c.serial == p.serial).values(returned=day, revoked=day))
    return {"person_id": row["person_id"], "serial": p.serial, "returned": day.isoformat()}


MEMBER_HANDLERS = {
    "application": (apply_for_certificate, CertificateApplication),
    "card_cancellation": (cancel_registration, CardCancellation),
    "card_return": (return_card, CardReturn),
}
