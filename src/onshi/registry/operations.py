"""Insurer operations: acquisition, change, loss, card link, card registration.

Each runs in one transaction: validated first, nothing stored on error, idempotent under
the client's request id (the same request again returns the first answer; a different one
under a used id is refused), and records whether R-I1's deadline was met.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass

import orjson
from pydantic import BaseModel
from sqlalchemy import Connection, Engine, and_, insert, or_, select, update
from sqlalchemy.exc import DBAPIError

from .. import config
from ..domain.card import card_expiry, cert_expiry
from ..domain.errors import Conflict, Forbidden, InputError, NotFound
from ..policy import load_policy
from . import db, models
from .events import record_changes, record_event
from .linkage import check_linkage
from .member_ops import MEMBER_HANDLERS
from .members import currently_insures as _currently_insures
from .members import find_qualification as _find_qualification
from .schema import card, insurer, operation, person, qualification
from .security import my_number_hash


@dataclass(frozen=True)
class OperationResult:
    body: dict
    replayed: bool = False


def _digest(kind: str, payload: BaseModel) -> str:
    data = payload.model_dump(mode="json", exclude={"request_id"})
    if "my_number" in data:  # the digest never sees the clear number
        data["my_number"] = my_number_hash(data["my_number"])
    return hashlib.sha256(orjson.dumps({"kind": kind, "payload": data}, option=orjson.OPT_SORT_KEYS)).hexdigest()


def deadline_days(day: dt.date) -> dict[str, int]:
    """R-I1: days from the notice to registration in the central system (policy data)."""
    return load_policy().at(day).deadlines


def _deadline(kind: str, notified: dt.date | None, registered: dt.date) -> dict:
    days = deadline_days(registered).get(kind)
    if days is None or notified is None:
        return {"deadline_days": None, "days_taken": None, "deadline_met": None}
    taken = (registered - notified).days
    return {"deadline_days": days, "days_taken": taken, "deadline_met": taken <= days}


def run(engine: Engine, insurer_number: str, kind: str, data: object, handlers: dict | None = None) -> OperationResult:
    """Validate `data` for operation `kind` and carry it out for `insurer_number` (`handlers`:
    kind → (handler, model) of a layer above the registry, e.g. issuance settings).

    Concurrent requests cannot create a state one request cannot: each runs in a write
    transaction (db.write_transaction) under the partial unique indexes of schema.py, and one
    that loses to a concurrent write runs again and then sees it — the same request id is a
    replay, anything else a 409 naming the field."""
    handler, model = (handlers or HANDLERS)[kind]
    payload = data if isinstance(data, model) else models.parse(model, data)
    digest = _digest(kind, payload)
    today = config.today()

    def attempt() -> OperationResult:
        with db.write_transaction(engine) as conn:
            previous = _previous(conn, insurer_number, payload.request_id, digest)
            if previous is not None:
                return previous
            if conn.execute(select(insurer.c.number).where(insurer.c.number == insurer_number)).first() is None:
                raise NotFound("insurer_number", f"unknown insurer {insurer_number}")
            body = handler(conn, insurer_number, payload, today)
            notified = getattr(payload, "notified", None)
            deadline = _deadline(kind, notified, today)
            body = {"operation": kind, "request_id": payload.request_id, "insurer_number": insurer_number, **body, "registered": today.isoformat(), **({"notified": notified.isoformat()} if notified else {}), **deadline}
            conn.execute(
                insert(operation).values(
                    insurer_number=insurer_number,
                    request_id=payload.request_id,
                    kind=kind,
                    payload_digest=digest,
                    response=json.dumps(body, ensure_ascii=False),
                    person_id=body.get("person_id"),
                    qualification_id=body.get("qualification_id"),
                    notified=notified,
                    registered=today,
                    created_at=config.now(),
                    **deadline,
                )
            )
            return OperationResult(body)

    try:
        return db.retrying(attempt)
    except DBAPIError as exc:
        if db.is_retryable(exc):
            raise Conflict(conflict_field(exc), "a concurrent request changed the same member; send the request again") from None
        raise


CONSTRAINT_FIELDS = {
    "uq_qualification_open_member": "my_number",
    "uq_qualification_open_numbers": "number",
    "uq_card_current": "serial",
    "card_pkey": "serial",
    "card.serial": "serial",
    "uq_operation_request": "request_id",
    "uq_certificate_application": "date",
}


def conflict_field(exc: DBAPIError) -> str | None:
    """The request field a violated constraint stands for (None when it is not one of ours)."""
    text = str(exc.orig)
    return next((f for name, f in CONSTRAINT_FIELDS.items() if name in text), None)


def _previous(conn: Connection, insurer_number: str, request_id: str, digest: str) -> OperationResult | None:
    row = conn.execute(
        select(operation.c.payload_digest, operation.c.response).where(
            operation.c.insurer_number == insurer_number, operation.c.request_id == request_id
        )
    ).first()
    if row is None:
        return None
    if row.payload_digest != digest:
        raise Conflict("request_id", f"'{request_id}' was already used for a different request")
    return OperationResult(json.loads(row.response), replayed=True)


# ---------------------------------------------------------------- helpers


def _overlaps(start: dt.date, end: dt.date | None):  # noqa: ANN202
    """SQL condition: a qualification overlapping [start, end]."""
    cond = or_(qualification.c.end.is_(None), qualification.c.end >= start)
    if end is not None:
        cond = and_(cond, qualification.c.start <= end)
    return cond


def _numbers_taken(conn: Connection, insurer_number: str, symbol: str, number: str, branch: str, start: dt.date, end: dt.date | None, except_person: int | None = None) -> bool:
    cond = [
        qualification.c.insurer_number == insurer_number,
        qualification.c.symbol == symbol,
        qualification.c.number == number,
        qualification.c.branch == branch,
        _overlaps(start, end),
    ]
    if except_person is not None:
        cond.append(qualification.c.person_id != except_person)
    return conn.execute(select(qualification.c.id).where(*cond).limit(1)).first() is not None


def _ended(row, today: dt.date) -> bool:  # noqa: ANN001
    """The insurer no longer insures the member on this qualification (its last day is past)."""
    return row["end"] is not None and row["end"] < today


def _label(row) -> str:  # noqa: ANN001
    return "-".join(x for x in (row["symbol"], row["number"], row["branch"]) if x)


def _member_person(conn: Connection, insurer_number: str, my_hash: str, today: dt.date) -> int:
    """The person with this 個人番号, who must be a current member of the insurer."""
    row = conn.execute(select(person.c.id).where(person.c.my_number_hash == my_hash)).first()
    if row is None:
        raise NotFound("my_number", "no person with this 個人番号 is registered")
    if not _currently_insures(conn, insurer_number, row.id, today):
        raise Forbidden("my_number", f"this person is not a member of insurer {insurer_number}")
    return row.id


def _check_kouki(insurer_number: str, kouki_ratio: int | None, kind: str) -> None:
    is_kouki = kind == "kouki"
    if is_kouki and kouki_ratio is None:
        raise InputError("kouki_ratio", "is required for a 後期高齢者医療 insurer (10, 20 or 30)")
    if not is_kouki and kouki_ratio is not None:
        raise InputError("kouki_ratio", f"applies only to 後期高齢者医療 insurers, not {insurer_number}")


def _insurer_kind(conn: Connection, insurer_number: str) -> str:
    return conn.execute(select(insurer.c.kind).where(insurer.c.number == insurer_number)).scalar_one()


# ---------------------------------------------------------------- operations


def acquire(conn: Connection, insurer_number: str, p: models.Acquisition, today: dt.date) -> dict:
    if p.notified > today:
        raise InputError("notified", "is after today")
    if p.notified < p.start - dt.timedelta(days=366):
        raise InputError("notified", "is more than a year before the start")
    _check_kouki(insurer_number, p.kouki_ratio, _insurer_kind(conn, insurer_number))
    my_hash = my_number_hash(p.my_number)
    check_linkage(conn, my_hash, name=p.name, kana=p.kana, birth_date=p.birth_date, sex=p.sex, address=p.address)  # R-I2
    existing = conn.execute(select(person.c.id).where(person.c.my_number_hash == my_hash)).first()
    person_id = existing.id if existing is not None else None
    if person_id is not None:
        overlapping = conn.execute(
            select(qualification.c.id).where(
                qualification.c.person_id == person_id, qualification.c.insurer_number == insurer_number, _overlaps(p.start, None)
            ).limit(1)
        ).first()
        if overlapping is not None:
            raise Conflict("my_number", f"this person already holds a qualification of insurer {insurer_number} from that date")
        # The person row is identity only (checked against the resident register above): what this
        # insurer says about its member goes on its own qualification, other insurers' stay untouched.
    if _numbers_taken(conn, insurer_number, p.symbol, p.number, p.branch, p.start, None, except_person=person_id):
        raise Conflict("number", "these 記号・番号・枝番 are already assigned to another member for that period")
    if person_id is None:
        person_id = conn.execute(
            insert(person).values(my_number_hash=my_hash, birth_date=p.birth_date, sex=p.sex).returning(person.c.id)
        ).scalar_one()
    qid = conn.execute(
        insert(qualification).values(
            person_id=person_id, insurer_number=insurer_number, symbol=p.symbol, number=p.number, branch=p.branch,
            relation=p.relation, insured_name=p.insured_name, card_classification=p.card_classification,
            start=p.start, end=None, income=p.income, kouki_ratio=p.kouki_ratio, limit_category=p.limit_category,
            limit_start=p.limit_start, limit_end=p.limit_end, limit_issued=p.limit_issued, notified=p.notified, registered=today,
            name=p.name, kana=p.kana, address=p.address, postcode=p.postcode, dv_flag=p.dv_flag,
            mailing_address=p.mailing_address, mailing_postcode=p.mailing_postcode,
        ).returning(qualification.c.id)
    ).scalar_one()
    record_event(conn, qid, insurer_number, "acquisition", p.start, today)  # R-I4a
    record_event(conn, qid, insurer_number, "registration_done", today, today)  # R-I5: the data is in the central system
    return {"person_id": person_id, "qualification_id": qid, "symbol": p.symbol, "number": p.number, "branch": p.branch, "start": p.start.isoformat()}


# What an insurer may still change on its own qualification once it has ended (the member is
# no longer its own): its DV flag, set or lifted — the flag protects the person everywhere until
# this insurer lifts it (R-D5, R-I3e) —, and, through a loss with `correction`, the end date and
# reason. Every other field of an ended qualification is history and refused (409).
ENDED_CHANGES = frozenset({"dv_flag"})


def change(conn: Connection, insurer_number: str, p: models.Change, today: dt.date) -> dict:
    if p.notified > today:
        raise InputError("notified", "is after today")
    row = _find_qualification(conn, insurer_number, p)
    if p.kouki_ratio is not None:
        _check_kouki(insurer_number, p.kouki_ratio, _insurer_kind(conn, insurer_number))
    values = {
        k: v
        for k, v in {
            "symbol": p.new_symbol, "number": p.new_number, "branch": p.new_branch, "relation": p.relation,
            "insured_name": p.insured_name, "income": p.income, "kouki_ratio": p.kouki_ratio,
            "limit_category": p.limit_category, "limit_start": p.limit_start, "limit_end": p.limit_end,
            "limit_issued": p.limit_issued,
            "name": p.name, "kana": p.kana, "address": p.address, "postcode": p.postcode, "dv_flag": p.dv_flag,
            "mailing_address": p.mailing_address, "mailing_postcode": p.mailing_postcode,
        }.items()
        if v is not None
    }
    if _ended(row, today) and set(values) - ENDED_CHANGES:
        refused = sorted(set(values) - ENDED_CHANGES)
        raise Conflict(
            refused[0],
            f"qualification {_label(row)} ended on {row['end'].isoformat()}: an insurer changes only members it currently "
            f"insures; on an ended qualification only dv_flag may be set or lifted (refused: {', '.join(refused)})",
        )
    if any(k in values for k in ("symbol", "number", "branch")):
        new = (values.get("symbol", row["symbol"]), values.get("number", row["number"]), values.get("branch", row["branch"]))
        if _numbers_taken(conn, insurer_number, *new, row["start"], row["end"], except_person=row["person_id"]):
            raise Conflict("new_number", "these 記号・番号・枝番 are already assigned to another member")
    if any(k in values for k in ("name", "kana", "address")):
        my_hash = conn.execute(select(person.c.my_number_hash).where(person.c.id == row["person_id"])).scalar_one()
        if my_hash:
            check_linkage(conn, my_hash, name=p.name, kana=p.kana, address=p.address)  # R-I2
    conn.execute(update(qualification).where(qualification.c.id == row["id"]).values(**values))
    record_changes(conn, row, values, date=p.notified, recorded=today)  # R-I4b, R-I5
    return {"person_id": row["person_id"], "qualification_id": row["id"], "changed": sorted(values)}


def lose(conn: Connection, insurer_number: str, p: models.Loss, today: dt.date) -> dict:
    if p.notified > today:
        raise InputError("notified", "is after today")
    row = _find_qualification(conn, insurer_number, p)
    if p.end < row["start"] - dt.timedelta(days=1):
        raise InputError("end", f"is before the qualification's start ({row['start'].isoformat()})")
    if row["end"] is None:
        if p.correction:
            raise InputError("correction", f"qualification {_label(row)} has no end to correct: send the loss without it")
    elif not p.correction:
        raise Conflict("number", f"qualification {_label(row)} already ends on {row['end'].isoformat()} (to correct the date, send correction: true)")
    elif _ended(row, today) and p.end >= today:
        raise Conflict("end", f"qualification {_label(row)} has ended: a correction keeps it ended (an end before {today.isoformat()})")
    if row["end"] is not None:  # 資格喪失日の訂正: the widened period must stay free
        later = conn.execute(
            select(qualification.c.start).where(
                qualification.c.person_id == row["person_id"], qualification.c.insurer_number == insurer_number,
                qualification.c.id != row["id"], qualification.c.start > row["start"], qualification.c.start <= p.end,
            ).limit(1)
        ).first()
        if later is not None:
            raise Conflict("end", f"overlaps this member's later qualification of insurer {insurer_number} (from {later.start.isoformat()})")
        if p.end > row["end"] and _numbers_taken(conn, insurer_number, row["symbol"], row["number"], row["branch"], row["end"] + dt.timedelta(days=1), p.end, except_person=row["person_id"]):
            raise Conflict("end", "these 記号・番号・枝番 belong to another member in the corrected period")
    conn.execute(update(qualification).where(qualification.c.id == row["id"]).values(end=p.end, loss_reason=p.loss_reason))
    record_event(conn, row["id"], insurer_number, "loss", p.end, today)  # R-I7c: its documents end with it
    return {"person_id": row["person_id"], "qualification_id": row["id"], "end": p.end.isoformat(), "loss_reason": p.loss_reason,
            **({"corrected": row["end"].isoformat()} if row["end"] is not None else {})}


def link_card(conn: Connection, insurer_number: str, p: models.CardLink, today: dt.date) -> dict:
    if p.issued > today:
        raise InputError("issued", "is after today")
    person_id = _member_person(conn, insurer_number, my_number_hash(p.my_number), today)
    existing = conn.execute(select(card.c.person_id).where(card.c.serial == p.serial)).first()
    if existing is not None:
        raise Conflict("serial", "this card serial is already linked")
    birth = conn.execute(select(person.c.birth_date).where(person.c.id == person_id)).scalar_one()
    card_exp = p.card_expires or card_expiry(birth, p.issued)  # R-B1
    cert_exp = p.cert_expires or cert_expiry(birth, p.issued, card_exp)
    # A new card replaces the person's earlier ones (再交付, 更新).
    conn.execute(update(card).where(card.c.person_id == person_id, card.c.revoked.is_(None)).values(revoked=p.issued))
    conn.execute(
        insert(card).values(
            serial=p.serial, person_id=person_id, issued=p.issued, card_expires=card_exp, cert_expires=cert_exp, insurance_registered=None, revoked=None
        )
    )
    return {"person_id": person_id, "serial": p.serial, "card_expires": card_exp.isoformat(), "cert_expires": cert_exp.isoformat()}


def register_card(conn: Connection, insurer_number: str, p: models.CardRegistration, today: dt.date) -> dict:
    day = p.registered_on or today
    if day > today:
        raise InputError("registered_on", "is after today")
    row = conn.execute(select(card).where(card.c.serial == p.serial)).mappings().first()
    if row is None:
        raise NotFound("serial", "no card with this serial is linked")
    if row["revoked"] is not None:
        raise Conflict("serial", "this card has been replaced or returned")
    if not _currently_insures(conn, insurer_number, row["person_id"], today):
        raise Forbidden("serial", f"the card holder is not a member of insurer {insurer_number}")
    if day < row["issued"]:
        raise InputError("registered_on", "is before the card was issued")
    if row["insurance_registered"] is None:  # (again after a 利用登録解除: the cancellation is over, R-I3c)
        conn.execute(update(card).where(card.c.serial == p.serial).values(insurance_registered=day, registration_cancelled=None))
        registered = day
    else:
        registered = row["insurance_registered"]
    return {"person_id": row["person_id"], "serial": p.serial, "insurance_registered": registered.isoformat()}


HANDLERS = {
    "acquisition": (acquire, models.Acquisition),
    "change": (change, models.Change),
    "loss": (lose, models.Loss),
    "card_link": (link_card, models.CardLink),
    "card_registration": (register_card, models.CardRegistration),
    **MEMBER_HANDLERS,  # issue 12: applications for a certificate, 利用登録解除, カード返納
}


def compliance(engine: Engine, insurer_number: str, since: dt.date | None = None) -> dict:
    """R-I1 report: registrations on time and late, by kind."""
    cond = [operation.c.insurer_number == insurer_number, operation.c.deadline_met.is_not(None)]
    if since:
        cond.append(operation.c.registered >= since)
    with engine.connect() as conn:
        rows = conn.execute(select(operation.c.kind, operation.c.deadline_met, operation.c.days_taken).where(*cond)).all()
    report: dict[str, dict] = {}
    for kind, met, taken in rows:
        entry = report.setdefault(kind, {"total": 0, "on_time": 0, "late": 0, "max_days": 0})
        entry["total"] += 1
        entry["on_time" if met else "late"] += 1
        entry["max_days"] = max(entry["max_days"], taken or 0)
    return {"insurer_number": insurer_number, "since": since.isoformat() if since else None, "by_kind": report, "deadlines": deadline_days(config.today())}
