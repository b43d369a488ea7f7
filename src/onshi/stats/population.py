"""A slice of the registry held in memory — people by id range with their qualifications,
cards and documents — and the front-desk engine's lookups over it.

The simulation and the what-if decide hundreds of thousands of visits: one query per lookup
would cost more than the decisions. They load a chunk of people with four range queries and
answer each lookup from memory through the registry's single implementation
(`evaluate_card` / `evaluate_numbers`), exactly as the live desk would on that day; the
verifications a lookup logs are collected as rows for a bulk insert (or dropped: a what-if
logs nothing).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

from sqlalchemy import Connection, select

from .. import config
from ..domain import charset
from ..domain.card import CardPolicy
from ..domain.numbers import PREFECTURES
from ..registry.lookup import (
    CERTIFICATE_KINDS, CardRow, DocumentRow, LookupResult, PersonRecord, PersonRow, QualificationRow, evaluate_card, evaluate_numbers,
)
from ..registry.schema import card, document, insurer, person, qualification
from ..registry.service import parse_number_query


@dataclass(frozen=True, slots=True)
class HeldDocument:
    kind: str  # eligibility_certificate | notice | insurance_card
    qualification_id: int | None
    issued: dt.date | None
    expires: dt.date | None


@dataclass(slots=True)
class Member:
    """One person as the registry holds them."""

    record: PersonRecord
    cards: list[CardRow] = field(default_factory=list)
    documents: list[HeldDocument] = field(default_factory=list)
    kinds: dict[int, str] = field(default_factory=dict)  # qualification id → insurer kind
    prefecture: int = 13

    @property
    def person(self) -> PersonRow:
        return self.record.person

    def qualification(self, qid: int | None) -> QualificationRow | None:
        return next((q for q in self.record.qualifications if q.id == qid), None)

    def covering(self, day: dt.date) -> QualificationRow | None:
        """The qualification the insurers hold for the day (the newest, with several)."""
        found = [q for q in self.record.qualifications if q.covers(day)]
        return max(found, key=lambda q: (q.start, q.id)) if found else None

    def card_on(self, day: dt.date) -> CardRow | None:
        """The card the person carries that day: issued, not yet replaced."""
        held = [c for c in self.cards if c.issued <= day and (c.revoked is None or c.revoked > day)]
        return max(held, key=lambda c: c.issued) if held else None

    def document_on(self, kind: str, day: dt.date) -> HeldDocument | None:
        """The newest document of that kind received by that day."""
        held = [d for d in self.documents if d.kind == kind and d.issued is not None and d.issued <= day]
        return max(held, key=lambda d: d.issued) if held else None


_PREFECTURE_OF = {name: i for i, name in enumerate(PREFECTURES, start=1)}


def prefecture_of(address: str | None) -> int:
    if address:
        for n in (3, 4):
            found = _PREFECTURE_OF.get(address[:n])
            if found:
                return found
    return 13


_Q_COLS = (
    qualification.c.id, qualification.c.person_id, qualification.c.insurer_number, qualification.c.symbol, qualification.c.number,
    qualification.c.branch, qualification.c.relation, qualification.c.start, qualification.c.end, qualification.c.registered,
    insurer.c.name, qualification.c.insured_name, qualification.c.card_classification, qualification.c.loss_reason,
    qualification.c.income, qualification.c.kouki_ratio, qualification.c.limit_category, qualification.c.limit_start,
    qualification.c.limit_end, insurer.c.kind, qualification.c.limit_issued,
    qualification.c.name, qualification.c.kana, qualification.c.address, qualification.c.postcode, qualification.c.dv_flag,
)


class Population:
    """People with ids in [lo, hi] (or the given ids), indexed for lookups by card and by numbers."""

    def __init__(self, conn: Connection, lo: int, hi: int, ids: set[int] | None = None):
        def where(col):  # noqa: ANN001, ANN202
            return (col.between(lo, hi),)

        # The certificates each qualification holds (lookup.held_document picks the one of the day),
        # and every document the person received (what they may bring to the desk).
        held: dict[int, list[DocumentRow]] = defaultdict(list)
        received: dict[int, list[HeldDocument]] = defaultdict(list)
        d = document
        doc_stmt = select(d.c.id, d.c.person_id, d.c.kind, d.c.qualification_id, d.c.issued, d.c.valid_from, d.c.expires)
        for r in conn.execute(doc_stmt.where(*where(d.c.person_id))):
            received[r[1]].append(HeldDocument(r[2], r[3], r[4], r[6]))
            if r[3] is not None and r[2] in CERTIFICATE_KINDS:
                held[r[3]].append(DocumentRow(r[0], r[2], r[4], r[5], r[6]))
        quals: dict[int, list[QualificationRow]] = defaultdict(list)
        kinds: dict[int, dict[int, str]] = defaultdict(dict)
        q_stmt = select(*_Q_COLS).select_from(qualification.outerjoin(insurer, insurer.c.number == qualification.c.insurer_number))
        for r in conn.execute(q_stmt.where(*where(qualification.c.person_id))):
            if ids is not None and r[1] not in ids:
                continue
            quals[r[1]].append(QualificationRow(
                id=r[0], insurer_number=r[2], symbol=r[3], number=r[4], branch=r[5], relation=r[6], start=r[7], end=r[8],
                registered=r[9], insurer_name=r[10] or "", insured_name=r[11], card_classification=r[12], loss_reason=r[13],
                income=r[14], kouki_ratio=r[15], limit_category=r[16], limit_start=r[17], limit_end=r[18],
                limit_issued=r[20], name=r[21], kana=r[22], address=r[23], postcode=r[24], dv_flag=bool(r[25]),
                documents=tuple(held.get(r[0], ())),
            ))
            kinds[r[1]][r[0]] = r[19] or "other"
        self.members: dict[int, Member] = {}
        p = person
        for r in conn.execute(select(p.c.id, p.c.birth_date, p.c.sex).where(*where(p.c.id))):
            if ids is not None and r[0] not in ids:
                continue
            mine = quals.get(r[0], [])
            # Name and address are each insurer's own (registry/members.py): the newest qualification's stand for the person.
            newest = max(mine, key=lambda q: (q.start, q.id), default=None)
            row = PersonRow(r[0], newest.name or "" if newest else "", newest.kana or "" if newest else "", r[1], r[2],
                            newest.address if newest else None, newest.postcode if newest else None, any(q.dv_flag for q in mine))
            self.members[r[0]] = Member(PersonRecord(row, tuple(mine)), documents=received.get(r[0], []), kinds=kinds.get(r[0], {}),
                                        prefecture=prefecture_of(row.address))
        self.by_serial: dict[str, Member] = {}
        c = card
        for r in conn.execute(select(c.c.serial, c.c.person_id, c.c.issued, c.c.card_expires, c.c.cert_expires, c.c.insurance_registered, c.c.revoked).where(*where(c.c.person_id))):
            m = self.members.get(r[1])
            if m is not None:
                row = CardRow(r[0], r[2], r[3], r[4], r[5], r[6])
                m.cards.append(row)
                self.by_serial[r[0]] = m
        self.answers: dict = {}  # the registry's answers over these people, for MemoryPort(answers=…)
        self.numbers_index: dict[tuple[str, str, dt.date], list[Member]] = defaultdict(list)
        for m in self.members.values():
            for q in {(q.insurer_number, q.number) for q in m.record.qualifications}:
                self.numbers_index[(q[0], q[1], m.person.birth_date)].append(m)

    # -------------------------------------------------------- lookup.Source

    def by_card(self, serial: str) -> tuple[CardRow, PersonRecord] | None:
        m = self.by_serial.get(serial)
        if m is None:
            return None
        return next(c for c in m.cards if c.serial == serial), m.record

    def by_numbers(self, insurer_number: str, symbol: str | None, number: str, branch: str | None, birth_date: dt.date) -> list[PersonRecord]:
        out = []
        for m in self.numbers_index.get((insurer_number, number, birth_date), ()):
            matched = tuple(q for q in m.record.qualifications if q.insurer_number == insurer_number and q.number == number
                            and (symbol is None or q.symbol == symbol) and (branch is None or q.branch == branch))
            if matched:
                out.append(PersonRecord(m.record.person, m.record.qualifications, matched))
        return out


Logger = Callable[[dict], None]


class MemoryPort:
    """The engine's LookupPort over a Population (and, for what it does not hold, a fallback
    source such as the database's). `log` receives each lookup's verification row."""

    def __init__(self, source, facility_code: str, card_policy: Callable[[dt.date], CardPolicy], *, log: Logger | None = None,  # noqa: ANN001
                 at: dt.datetime | None = None, channel: str = "sim", fallback=None, repertoire: str | None = None,  # noqa: ANN001
                 answers: dict | None = None):
        self.source, self.fallback = source, fallback
        self.facility_code, self.card_policy, self.log, self.at, self.channel = facility_code, card_policy, log, at, channel
        self.repertoire = repertoire or charset.default_repertoire()
        # The registry's answers already given, shared by the ports over one unchanging source
        # (the simulation's chunk): evaluate_card / evaluate_numbers are pure functions of the
        # rows, the day, the identity and the day's card policy, so the same question on the
        # same day gets the same answer (a patient at the clinic, then the pharmacy next door).
        # Each lookup is still logged.
        self.answers = answers

    def by_card(self, serial: str, *, identity: str, day: dt.date, method: str) -> LookupResult:
        serial = (serial or "").strip().upper()
        key = ("card", serial, identity, day, self.repertoire)
        result = self.answers.get(key) if self.answers is not None else None
        if result is None:
            found = self.source.by_card(serial)
            if found is None and self.fallback is not None:
                found = self.fallback.by_card(serial)
            result = evaluate_card(found, day, identity=identity, policy=self.card_policy(day), repertoire=self.repertoire)
            if self.answers is not None:
                self.answers[key] = result
        return self._logged(result, method, identity)

    def by_numbers(self, q: QualificationRow, birth_date: dt.date, day: dt.date) -> LookupResult:
        args = _number_query(q.insurer_number, q.symbol, q.number, q.branch, birth_date)
        key = ("numbers", args, day, self.repertoire)
        result = self.answers.get(key) if self.answers is not None else None
        if result is None:
            records = self.source.by_numbers(*args)
            if not records and self.fallback is not None:
                records = self.fallback.by_numbers(*args)
            result = evaluate_numbers(records, day, repertoire=self.repertoire)
            if self.answers is not None:
                self.answers[key] = result
        return self._logged(result, "number_inquiry", None)

    def _logged(self, result: LookupResult, method: str, identity: str | None) -> LookupResult:
        if self.log is not None:  # the same row Registry._record writes for a live lookup
            self.log({
                "facility_code": self.facility_code, "at": self.at or config.now(), "as_of": result.as_of, "method": method,
                "identity": identity, "result": result.validity.value if result.validity else "error", "error": result.error,
                "person_id": result.person_id, "qualification_id": result.qualification.id if result.qualification else None,
                "channel": self.channel,
            })
        return result


@lru_cache(maxsize=65536)
def _number_query(insurer_number: str, symbol: str, number: str, branch: str, birth_date: dt.date) -> tuple:
    """The registry's own normalisation of a number inquiry (the same patient's numbers recur)."""
    query = parse_number_query(insurer_number, symbol, number, branch, birth_date)
    return (query.insurer_number, query.symbol, query.number, query.branch, query.birth_date)


def person_id_bounds(conn: Connection) -> tuple[int, int]:
    from sqlalchemy import func

    lo, hi = conn.execute(select(func.min(person.c.id), func.max(person.c.id))).one()
    return (lo or 0, hi or 0)


__all__ = ["HeldDocument", "Member", "MemoryPort", "Population", "person_id_bounds", "prefecture_of"]
