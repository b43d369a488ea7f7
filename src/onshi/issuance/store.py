"""The issuance run's reads and writes on the registry (set-based: a few queries per batch of
members, never one per member).

`load_members` builds the engine's `Member`s of a batch of qualifications *as the registry
stood on the run day* — the cards, registrations, events, applications and documents known
by then — so that the seed's history runs (issuance/history.py) see what an insurer saw on
each past day; on today's run every fact is already known and nothing is filtered out.
`record` writes what the decisions send and end, in the caller's transaction.

Glossary: a member of the engine is one qualification of the registry (its id is the
qualification id); an old 保険証 (`insurance_card`, RULES A6) is a held certificate to the
engine — it stood for the qualification until it expired (2025-12-01 at the latest).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import psycopg
from sqlalchemy import BigInteger, Connection, ColumnElement, any_, bindparam, func, insert, literal, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.exc import IntegrityError

from ..registry.schema import card, certificate_application, document, document_end, member_event, person, qualification
from .models import CERTIFICATE, EVENT_KINDS, NOTICE, REGISTRATION_NOTICE, Application, Card, Decision, Event, HeldDocument, Member, Qualification
from .settings import Settings

OLD_CARD = "insurance_card"
RENEWABLE_KINDS = (CERTIFICATE, NOTICE, OLD_CARD)  # what a run renews or ends (R-I6a, R-I7)
HELD_KINDS = (*RENEWABLE_KINDS, REGISTRATION_NOTICE)
CERTIFICATE_KINDS = (CERTIFICATE, OLD_CARD)  # what stands for the qualification on its own (R-I6a 4)


def among(column: ColumnElement, ids: list[int], conn: Connection) -> ColumnElement[bool]:
    """`column IN ids`: one array parameter on PostgreSQL, a list of parameters on SQLite."""
    if conn.dialect.name == "postgresql":
        return column == any_(literal(ids, ARRAY(BigInteger)))
    return column.in_(ids)


@dataclass
class Loaded:
    """A batch read from the registry: the members and what recording their decisions needs."""

    day: dt.date
    members: list[Member]
    insurer_of: dict[str, str]  # member id → insurer number
    person_of: dict[str, int]  # member id → person id
    expires: dict[str, dt.date | None]  # held document id → its last day as read
    application_of: dict[str, tuple[int, str | None]]  # member id → (application id, its recorded decision)


def load_members(conn: Connection, ids: list[int], day: dt.date) -> Loaded:
    """The members (qualification ids `ids`) as the registry stood on `day`: six queries."""
    return read_facts(conn, ids, day).members_on(day)


@dataclass
class Facts:
    """What the registry holds on a set of qualifications, as read (`day` None: every fact,
    whenever it happened or was recorded); `members_on(day)` sees them as an insurer did on a
    day. The seed's history (issuance/replay.py) reads once and looks on each run day, adding
    the documents its runs send to `docs` (each `[id, kind, issued, valid_from, expires]`)."""

    rows: list  # (qid, person_id, insurer_number, start, end, income, relation, birth, linked, notified), by qid
    dv: set  # (insurer number, person id) flagged (R-I3e)
    cards: dict  # person → [(issued, card_expires, cert_expires, registered, cancelled, returned, revoked)]
    docs: dict  # qid → [[id, kind, issued, valid_from, expires]]
    events: dict  # qid → [(kind, date, recorded)] (losses included)
    applications: dict  # qid → [(id, date, reason, decision)] by (date, id)

    def members_on(self, day: dt.date) -> Loaded:
        loaded = Loaded(day, [], {}, {}, {}, {})
        for row in self.rows:
            self.add_member(loaded, row, day)
        return loaded

    def add_member(self, loaded: Loaded, row: tuple, day: dt.date) -> None:
        """One member as of `day` into `loaded`."""
        qid, person_id, insurer_number, start, end, income, relation, birth, linked, _ = row
        mid = str(qid)
        held = []
        for doc_id, kind, issued, valid_from, expires in self.docs.get(qid, ()):
            if kind not in HELD_KINDS or issued > day:
                continue
            doc_id = str(doc_id)
            loaded.expires[doc_id] = expires
            if kind == REGISTRATION_NOTICE:
                held.append(HeldDocument(doc_id, kind, issued))
            else:
                held.append(HeldDocument(doc_id, CERTIFICATE if kind == OLD_CARD else kind, issued, valid_from or issued, expires))
        events, losses = [], []
        for kind, date, recorded in self.events.get(qid, ()):
            if kind == "loss":
                losses.append(recorded)  # when each loss of the qualification was recorded
            elif recorded <= day and kind in EVENT_KINDS:
                events.append(Event(kind, date))
        if end is not None and losses and min(losses) > day:
            end = None  # R-I7c: the last day was not known yet on that day
        app = None  # the latest counts
        for found in self.applications.get(qid, ()):
            if found[1] <= day:
                app = found
        if app is not None:
            loaded.application_of[mid] = (app[0], app[3])
        loaded.members.append(Member(
            mid, birth, Qualification(start, end, income=income or "general"), card_on([c for c in self.cards.get(person_id, ()) if c[0] <= day], day), bool(linked),
            (insurer_number, person_id) in self.dv,
            Application(app[1], app[2]) if app is not None else None,
            tuple(sorted(held, key=lambda h: (h.issued, h.id))) if held else (), tuple(events), relation,
        ))
        loaded.insurer_of[mid] = insurer_number
        loaded.person_of[mid] = person_id


def read_facts(conn: Connection, ids: list[int], day: dt.date | None = None) -> Facts:
    """The facts of the qualifications `ids` (six queries); with `day`, only what existed by
    then (cards issued, documents issued, applications made)."""
    q, p, d, e, a = qualification, person, document, member_event, certificate_application
    rows = conn.execute(
        select(q.c.id, q.c.person_id, q.c.insurer_number, q.c.start, q.c.end, q.c.income, q.c.relation, p.c.birth_date,
               p.c.my_number_hash.is_not(None), q.c.notified)
        .select_from(q.join(p, p.c.id == q.c.person_id)).where(among(q.c.id, ids, conn)).order_by(q.c.id)
    ).all()
    persons = sorted({r[1] for r in rows})
    # R-I3e: the flag this insurer set for the person, on any of its qualifications (members.dv_flag_of, in bulk)
    dv = set(conn.execute(select(q.c.insurer_number, q.c.person_id).where(among(q.c.person_id, persons, conn), q.c.dv_flag.is_(True))).all())
    def dated(column):  # noqa: ANN001, ANN202
        return [column <= day] if day is not None else []

    cards: dict[int, list] = defaultdict(list)
    for person_id, *c in conn.execute(
        select(card.c.person_id, card.c.issued, card.c.card_expires, card.c.cert_expires, card.c.insurance_registered,
               card.c.registration_cancelled, card.c.returned, card.c.revoked)
        .where(among(card.c.person_id, persons, conn), *dated(card.c.issued))
    ):
        cards[person_id].append(tuple(c))

    docs: dict[int, list] = defaultdict(list)
    for doc_id, qid, kind, issued, valid_from, end in conn.execute(
        select(d.c.id, d.c.qualification_id, d.c.kind, d.c.issued, d.c.valid_from, d.c.expires)
        .where(among(d.c.qualification_id, ids, conn), d.c.kind.in_(HELD_KINDS), *dated(d.c.issued))
    ):
        docs[qid].append([doc_id, kind, issued, valid_from, end])

    events: dict[int, list] = defaultdict(list)
    for qid, kind, date, recorded in conn.execute(select(e.c.qualification_id, e.c.kind, e.c.date, e.c.recorded).where(among(e.c.qualification_id, ids, conn))):
        events[qid].append((kind, date, recorded))

    applications: dict[int, list] = defaultdict(list)
    for qid, *app in conn.execute(select(a.c.qualification_id, a.c.id, a.c.date, a.c.reason, a.c.decision)
                                  .where(among(a.c.qualification_id, ids, conn), *dated(a.c.date)).order_by(a.c.date, a.c.id)):
        applications[qid].append(list(app))
    return Facts(rows, dv, dict(cards), dict(docs), dict(events), dict(applications))


def card_on(rows, day: dt.date) -> Card | None:  # noqa: ANN001
    """The person's My Number card on `day` (the engine's `member.card`): the newest card issued
    by then and not yet replaced; else the newest returned card (R-I3c); else none (R-I3a).
    Registration, cancellation and return only from the day they happened. `rows`: (issued,
    card_expires, cert_expires, insurance_registered, registration_cancelled, returned, revoked)."""
    chosen = max((c for c in rows if c[6] is None or c[6] > day), key=lambda c: c[0], default=None)
    if chosen is None:
        chosen = max((c for c in rows if c[5] is not None), key=lambda c: c[0], default=None)
    if chosen is None:
        return None
    issued, card_expires, cert_expires, registered, cancelled, returned, _ = chosen
    return Card(issued, card_expires, cert_expires, registered if registered is not None and registered <= day else None,
                cancelled if cancelled is not None and cancelled <= day else None, returned if returned is not None and returned <= day else None)


# ---------------------------------------------------------------- recording


def _new_ids(conn: Connection, n: int) -> list[int]:
    """`n` ids for new documents, taken in the caller's transaction (PostgreSQL: from the
    sequence; SQLite: after the largest, the writer holding the database since BEGIN IMMEDIATE)."""
    if conn.dialect.name == "postgresql":
        return [r[0] for r in conn.exec_driver_sql(f"SELECT nextval(pg_get_serial_sequence('document', 'id')) FROM generate_series(1, {int(n)})")]
    top = conn.execute(select(func.max(document.c.id))).scalar() or 0
    return list(range(top + 1, top + n + 1))


def _insert(conn: Connection, table, rows: list[dict]) -> None:  # noqa: ANN001
    """Rows into `table`: COPY on PostgreSQL (a run writes hundreds of thousands), else executemany."""
    if conn.dialect.name != "postgresql":
        conn.execute(insert(table), rows)
        return
    columns = list(rows[0])
    quoted = ", ".join(f'"{c}"' for c in columns)
    try:
        with conn.connection.driver_connection.cursor() as cur, cur.copy(f"COPY {table.name} ({quoted}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([row[c] for c in columns])
    except psycopg.errors.IntegrityError as exc:  # a concurrent run recorded it first: as SQLAlchemy says it (retryable)
        raise IntegrityError(f"COPY {table.name}", None, exc) from exc


class StaleBatch(Exception):
    """What a batch read has changed before it was recorded (a concurrent run): decide it again."""


@dataclass
class Tally:
    """What a batch (or a whole run) recorded: the run's summary."""

    members: int = 0  # decided
    sent: int = 0  # members who were sent something
    documents: Counter = field(default_factory=Counter)  # by kind
    rules: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))  # kind → rule → documents
    triggers: Counter = field(default_factory=Counter)  # R-I6a trigger of certificates and お知らせ
    ends: Counter = field(default_factory=Counter)  # R-I7 rule → documents ended
    applications: Counter = field(default_factory=Counter)  # decisions newly recorded
    warnings: list[str] = field(default_factory=list)
    warning_count: int = 0

    def add(self, other: "Tally") -> None:
        self.members += other.members
        self.sent += other.sent
        self.documents.update(other.documents)
        for kind, rules in other.rules.items():
            self.rules[kind].update(rules)
        self.triggers.update(other.triggers)
        self.ends.update(other.ends)
        self.applications.update(other.applications)
        self.warn(*other.warnings, count=other.warning_count)

    MAX_WARNINGS = 200

    def warn(self, *messages: str, count: int | None = None) -> None:
        room = self.MAX_WARNINGS - len(self.warnings)
        self.warnings.extend(messages[:max(room, 0)])
        self.warning_count += len(messages) if count is None else count

    def to_json(self) -> dict:
        return {
            "members": self.members, "sent": self.sent, "documents": dict(sorted(self.documents.items())),
            "rules": {k: dict(sorted(v.items())) for k, v in sorted(self.rules.items())}, "triggers": dict(sorted(self.triggers.items())),
            "ends": dict(sorted(self.ends.items())), "applications": dict(sorted(self.applications.items())), "warning_count": self.warning_count,
        }

    @classmethod
    def from_json(cls, data: dict, warnings: list[str] | None = None) -> "Tally":
        t = cls(members=data.get("members", 0), sent=data.get("sent", 0), documents=Counter(data.get("documents", {})),
                triggers=Counter(data.get("triggers", {})), ends=Counter(data.get("ends", {})), applications=Counter(data.get("applications", {})),
                warnings=list(warnings or []), warning_count=data.get("warning_count", 0))
        for kind, rules in data.get("rules", {}).items():
            t.rules[kind].update(rules)
        return t


@dataclass
class Plan:
    """What a batch's decisions write (store.plan): the documents sent (without ids), each
    held document's end with the (qualification, kind) of the document replacing it, the
    application decisions that changed, and the batch's tally."""

    documents: list[dict]
    ends: list[dict]  # document_id, previous_expires, valid_until, rules, by: (qid, kind) | None
    decided: list[dict]  # app, decision
    tally: Tally


def plan(loaded: Loaded, decisions: list[Decision], settings: dict[str, Settings], run_id: int) -> Plan:
    """The rows recording `decisions` (pure: `record` writes them; the seed's replay keeps them)."""
    day = loaded.day
    tally = Tally(members=len(decisions))
    new_rows: list[dict] = []
    for d in decisions:
        if d.warnings:
            tally.warn(*(f"{d.member_id}: {w}" for w in d.warnings))
        if not d.sends:
            continue
        tally.sent += 1
        if d.trigger:
            tally.triggers[d.trigger] += 1
        form = settings[loaded.insurer_of[d.member_id]].certificate_form
        for doc in d.documents():
            new_rows.append({
                "person_id": loaded.person_of[d.member_id], "qualification_id": int(d.member_id), "kind": doc.kind,
                "form": form if doc.kind == CERTIFICATE else "a4", "issued": day, "valid_from": doc.valid_from, "expires": doc.expires,
                "rules": " ".join(doc.rules), "run_id": run_id,
            })
            tally.documents[doc.kind] += 1
            tally.rules[doc.kind].update(doc.rules)
    ends = []
    for d in decisions:
        if not d.replaces:
            continue
        qid = int(d.member_id)
        by = (qid, CERTIFICATE) if d.certificate else (qid, NOTICE) if d.notice else None
        for r in d.replaces:
            ends.append({"document_id": r.id, "run_id": run_id, "by": by, "previous_expires": loaded.expires.get(r.id),
                         "valid_until": r.valid_until, "rules": " ".join(r.rules)})
            tally.ends.update(r.rules)
    decided = []
    for d in decisions:
        app = loaded.application_of.get(d.member_id)
        if app is not None and d.application is not None and d.application != app[1]:
            decided.append({"app": app[0], "decision": d.application})
            tally.applications[d.application] += 1
    return Plan(new_rows, ends, decided, tally)


def record(conn: Connection, run_id: int, loaded: Loaded, decisions: list[Decision], settings: dict[str, Settings]) -> Tally:
    """Write the batch's decisions (in the caller's transaction): the documents sent (R-I6a),
    the held documents ended with the rules and what replaced them (R-I7), the application
    decisions that changed (R-I3f: a refusal is recorded once). Returns the batch's tally."""
    day = loaded.day
    todo = plan(loaded, decisions, settings, run_id)
    new_rows = todo.documents
    new_ids: dict[tuple[int, str], int] = {}
    if new_rows:
        for row, doc_id in zip(new_rows, _new_ids(conn, len(new_rows))):
            row["id"] = doc_id
            new_ids[(row["qualification_id"], row["kind"])] = doc_id
        _insert(conn, document, new_rows)

    ended = sorted({int(e["document_id"]) for e in todo.ends})
    if ended:  # a concurrent run may have ended them since they were read: then decide the batch again
        query = select(document.c.id, document.c.expires).where(among(document.c.id, ended, conn))
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        stale = [i for i, expires in conn.execute(query) if expires != loaded.expires.get(str(i))]
        if stale:
            raise StaleBatch(f"documents {stale[:5]} changed since the batch was read")
    ends, changed = [], []
    for e in todo.ends:
        ends.append({"document_id": int(e["document_id"]), "run_id": run_id, "replaced_by": new_ids.get(e["by"]) if e["by"] else None,
                     "previous_expires": e["previous_expires"], "valid_until": e["valid_until"], "rules": e["rules"]})
        if e["previous_expires"] != e["valid_until"]:
            changed.append({"doc": int(e["document_id"]), "until": e["valid_until"]})
    if changed:
        conn.execute(update(document).where(document.c.id == bindparam("doc")).values(expires=bindparam("until")), changed)
    if ends:
        _insert(conn, document_end, ends)
    if todo.decided:
        a = certificate_application
        conn.execute(update(a).where(a.c.id == bindparam("app")).values(decision=bindparam("decision"), decided=day, decided_run=run_id), todo.decided)
    return todo.tally


__all__ = ["CERTIFICATE_KINDS", "HELD_KINDS", "Facts", "Loaded", "Plan", "RENEWABLE_KINDS", "Tally", "among", "card_on", "load_members", "plan", "read_facts", "record"]
