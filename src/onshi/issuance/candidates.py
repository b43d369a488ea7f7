"""Who a run on day D must decide, selected in SQL (one statement): a superset of the members
the engine could send or end something for, so that the run decides a fraction of the
registry and never misses one (tests/test_issuance_run.py compares with deciding everyone).

A member (qualification) the insurer knows on D (notified by then) is a candidate when:
- **events**: an event recorded since the last run (or dated since: a 75th-birthday 後期
  enrolment entered ahead falls due later, R-I6b) — R-I4a, R-I4b, R-I5;
- **registration**: a registration notice not sent yet — it waits for a usable card (R-I5);
- **renewal**: the current certificate, お知らせ or old card ends inside the renewal window of
  D (R-I6a 3), or a certificate not ended yet ends there behind a later お知らせ (3b), and the
  member still belongs the day after;
- **end**: the qualification's last day is set and a document runs past it (R-I7c);
- **application**: every member who applied (R-I3f: the decision on it is kept current; R-I7d:
  a card_lost / card_renewal certificate ends when the card works again);
- **standing**: covered on D, no certificate valid on D, and possibly certificate-eligible. On
  a scope's first run: no card that works on D (R-I3a–d), no My Number (R-I3a), the insurer's
  DV flag (R-I3e), 後期 and old enough for the automatic certificate (R-I3g), or an insurer
  that sends a certificate to all (R-I3h). On later runs only what can have changed since the
  last one: a certificate that ended, a card that changed (issued, registered, replaced,
  returned, cancelled, or past the line of R-I3d), the 後期 age reached, an insurer that began
  sending to all, a member who joined; a DV flag set is an event, applicants are candidates;
- **again**: a certificate or お知らせ issued since the last run (a renewal from the end of an
  お知らせ may leave the days before it without the certificate the member stands in need of),
  or one that ended since (a certificate's renewal waits for the お知らせ beside it to end);
- on the day a new grace of R-B2 comes into force every waiting registration notice (a card
  past its old grace may be usable again).

A last day whose loss is recorded after D is not known on D (the engine sees the
qualification open, store.load_members): renewal, registration and standing see it so too.

Since the last run, events and renewals are looked for by date too, so that a run decides
the day's changes, not the registry (indexes on the dates: `ix_member_event_recorded`,
`ix_document_expires`).
"""

from __future__ import annotations

import datetime as dt

from dataclasses import dataclass

from sqlalchemy import Connection, and_, exists, false, func, literal, or_, select, union

from ..domain.dates import add_months, anniversary
from ..registry.members import dv_flag_of
from ..registry.schema import card, certificate_application, document, insurer, member_event, person, qualification
from .rules import IssuanceRules
from .store import CERTIFICATE_KINDS, RENEWABLE_KINDS

ONE_DAY = dt.timedelta(days=1)


def renewal_horizon(day: dt.date, rules: IssuanceRules) -> dt.date:
    """R-I6a 3: the last end date a run on `day` renews (the window opens on the first day of
    the end month, less `renewal_lead_months`)."""
    return add_months(day.replace(day=1), rules.renewal_lead_months + 1) - ONE_DAY


def kouki_cutoff(day: dt.date, rules: IssuanceRules) -> dt.date | None:
    """R-I3g: the latest birth date of a 後期 member certificate-eligible by age on `day`
    (None: no one by age; date.max: every member)."""
    age = rules.kouki_automatic_age
    if age is None:
        return None
    if age <= 0:
        return dt.date.max
    on = day
    if rules.kouki_age_on is not None:
        on = dt.date(day.year, *rules.kouki_age_on)
        if on > day:
            on = dt.date(day.year - 1, *rules.kouki_age_on)
    return anniversary(on, -age) if (on.month, on.day) != (2, 29) else dt.date(on.year - age, 3, 1)


@dataclass(frozen=True)
class Selection:
    """What a run on `day` selects by: its rules, the scope, and the last run's day and rules
    (None: no run yet — everything is looked at once)."""

    day: dt.date
    rules: IssuanceRules
    insurers: list[str] | None = None  # None: every insurer
    last: dt.date | None = None
    last_rules: IssuanceRules | None = None
    to_all: tuple[str, ...] = ()  # insurers sending a certificate to every member (R-I3h)
    to_all_since: tuple[str, ...] = ()  # …of them, those whose settings changed since the last run


def grace_due_line(day: dt.date, rules: IssuanceRules) -> dt.date:
    """R-I3d: a card expiring before this day is due for a certificate on `day` (the first day
    of the month its grace ends, less the lead)."""
    return add_months(day.replace(day=1), rules.grace_lead_months + 1 - rules.grace_months)


def candidate_ids(conn: Connection, sel: Selection) -> list[int]:
    """The qualification ids a run decides: one statement."""
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql("SET LOCAL jit = off")  # a large plan compiles for longer than it runs
    q = qualification
    everything = union(*candidate_parts(sel).values()).subquery()
    known = or_(q.c.notified.is_(None), q.c.notified <= sel.day)
    ids = select(everything.c[0]).select_from(everything.join(q, q.c.id == everything.c[0])).where(known).order_by(everything.c[0])
    return [row[0] for row in conn.execute(ids)]


def candidate_counts(conn: Connection, sel: Selection) -> dict[str, int]:
    """How many members each reason selects (they overlap): to explain a run's size."""
    return {name: conn.execute(select(func.count()).select_from(part.subquery())).scalar_one() for name, part in candidate_parts(sel).items()}


def candidate_parts(sel: Selection) -> dict:
    """The select of each reason, by name."""
    q, d, d2, c, a, e = qualification, document.alias("d"), document.alias("d2"), card, certificate_application, member_event
    day, last, rules = sel.day, sel.last, sel.rules

    def mine(column):  # noqa: ANN001, ANN202
        return column.in_(sel.insurers) if sel.insurers is not None else literal(True)

    def between(column):  # noqa: ANN001, ANN202 — on a day since the last run
        return and_(column >= last, column <= day)

    known = or_(q.c.notified.is_(None), q.c.notified <= day)
    # a last day whose loss is recorded after D is not known on D: the engine sees an open qualification (store.load_members)
    loss = member_event.alias("loss")
    unknown_end = and_(exists().where(loss.c.qualification_id == q.c.id, loss.c.kind == "loss"),
                       ~exists().where(loss.c.qualification_id == q.c.id, loss.c.kind == "loss", loss.c.recorded <= day))
    covered = and_(q.c.start <= day, or_(q.c.end.is_(None), q.c.end >= day, unknown_end))
    first_day = func.coalesce(d.c.valid_from, d.c.issued)

    # a card changed since the last run: issued, registered, replaced, returned, cancelled, or its
    # expiry crossed the line of R-I3d (either way: the grace grew on 2025-12-02)
    if last is not None:
        lines = sorted((grace_due_line(last, sel.last_rules or rules), grace_due_line(day, rules)))
        changed_cards = (select(c.c.person_id).where(c.c.issued <= day, or_(
            between(c.c.issued), between(c.c.insurance_registered), between(c.c.revoked), between(c.c.returned),
            between(c.c.registration_cancelled), and_(c.c.cert_expires >= lines[0], c.c.cert_expires < lines[1]),
            and_(c.c.card_expires >= lines[0], c.c.card_expires < lines[1]))).subquery())
        card_changed = q.c.person_id.in_(select(changed_cards.c.person_id))

    # events recorded since the last run, or falling due since then
    events = select(e.c.qualification_id).where(mine(e.c.insurer_number), e.c.recorded <= day, e.c.kind != "loss")  # losses: `end`
    if last is not None:
        events = events.where(or_(e.c.recorded >= last, and_(e.c.kind == "acquisition", e.c.date >= last)))

    # R-I5: a registration notice not sent yet, once the member's card may work
    sent = exists().where(d.c.qualification_id == e.c.qualification_id, d.c.kind == "registration_notice", d.c.issued >= e.c.date)
    registration = (select(e.c.qualification_id).select_from(e.join(q, q.c.id == e.c.qualification_id))
                    .where(mine(e.c.insurer_number), e.c.kind == "registration_done", e.c.recorded <= day, or_(q.c.end.is_(None), q.c.end >= day, unknown_end), ~sent))
    if last is not None and sel.last_rules is not None and sel.last_rules.grace_months == rules.grace_months:
        registration = registration.where(card_changed)  # (a new grace, R-B2, may make any waiting member's card usable)

    # renewal: the current document ends in the window (R-I6a 3), or a certificate still valid ends
    # there behind a later お知らせ (3b; once it has ended, `standing` finds the member); the member
    # still belongs the day after. Since the last run: what entered the window since (a month early).
    first2 = func.coalesce(d2.c.valid_from, d2.c.issued)
    later = exists().where(d2.c.qualification_id == d.c.qualification_id, d2.c.kind.in_(RENEWABLE_KINDS), d2.c.issued <= day,
                           first2 > first_day, or_(d2.c.expires.is_(None), d2.c.expires >= first2))
    outlasted = exists().where(d2.c.qualification_id == d.c.qualification_id, d2.c.id != d.c.id, d2.c.kind.in_(CERTIFICATE_KINDS),
                               d2.c.issued <= day, or_(d2.c.expires.is_(None), d2.c.expires > d.c.expires), or_(d2.c.expires.is_(None), d2.c.expires >= first2))
    window = [d.c.expires <= renewal_horizon(day, rules)]
    if last is not None:
        window.append(d.c.expires >= add_months(last.replace(day=1), -1))
    ending = (select(d.c.qualification_id, d.c.expires).where(d.c.kind.in_(RENEWABLE_KINDS), d.c.issued <= day, *window,
                                                              or_(~later, and_(d.c.kind.in_(CERTIFICATE_KINDS), d.c.expires >= day, ~outlasted)))
              .subquery())
    renewal = (select(q.c.id).select_from(q.join(ending, ending.c.qualification_id == q.c.id))
               .where(mine(q.c.insurer_number), known, or_(q.c.end.is_(None), q.c.end > ending.c.expires, unknown_end)))

    # R-I7c: documents running past a last day known on D (a loss recorded later is not known yet)
    past_end = (
        select(q.c.id).where(mine(q.c.insurer_number), q.c.end.is_not(None), ~unknown_end, exists().where(
            d.c.qualification_id == q.c.id, d.c.kind.in_(RENEWABLE_KINDS), d.c.issued <= day, or_(d.c.expires.is_(None), d.c.expires > q.c.end)))
    )

    # applications (R-I3f, R-I7d): few, and their decision is kept current
    applications = select(a.c.qualification_id).where(mine(a.c.insurer_number), a.c.date <= day)

    # standing: covered, no certificate on D, and possibly certificate-eligible — on the first run
    # looked for among everyone; later among those whose certificate ended, whose card changed,
    # who reached the 後期 age, whose insurer began sending to all, or who joined since (R-I3a–h)
    holds = exists().where(d.c.qualification_id == q.c.id, d.c.kind.in_(CERTIFICATE_KINDS), d.c.issued <= day, first_day <= day,
                           or_(d.c.expires.is_(None), d.c.expires >= day))
    cutoff = kouki_cutoff(day, rules)
    joins = q.join(person, person.c.id == q.c.person_id).join(insurer, insurer.c.number == q.c.insurer_number)
    if last is None:  # looked for among everyone
        line = grace_due_line(day, rules)
        works = exists().where(
            c.c.person_id == q.c.person_id, c.c.issued <= day, or_(c.c.revoked.is_(None), c.c.revoked > day),
            c.c.insurance_registered <= day, or_(c.c.registration_cancelled.is_(None), c.c.registration_cancelled > day),
            or_(c.c.returned.is_(None), c.c.returned > day), c.c.cert_expires >= line, c.c.card_expires >= line,
        )
        kouki = and_(insurer.c.kind == "kouki", person.c.birth_date <= cutoff) if cutoff is not None else false()
        to_all = q.c.insurer_number.in_(sel.to_all) if sel.to_all else false()
        reasons = or_(~works, person.c.my_number_hash.is_(None), dv_flag_of(q.c.insurer_number, q.c.person_id), kouki, to_all)
        standing = select(q.c.id).select_from(joins).where(mine(q.c.insurer_number), known, covered, ~holds, reasons)
    else:  # driven by the few members something happened to (each a scan by date), then checked
        changed = [
            select(d.c.qualification_id.label("id")).where(d.c.kind.in_(CERTIFICATE_KINDS), d.c.expires >= last - ONE_DAY, d.c.expires < day),
            select(q.c.id).where(card_changed),
            select(q.c.id).where(or_(between(q.c.start), between(q.c.notified))),
        ]
        aged = _kouki_reached(kouki_cutoff(last, sel.last_rules or rules), cutoff)
        if aged is not None:
            changed.append(select(q.c.id).select_from(joins).where(insurer.c.kind == "kouki", aged(person.c.birth_date)))
        if sel.to_all_since:
            changed.append(select(q.c.id).where(q.c.insurer_number.in_(sel.to_all_since)))
        who = union(*changed).subquery()
        standing = (select(q.c.id).select_from(q.join(who, who.c.id == q.c.id))
                    .where(mine(q.c.insurer_number), known, covered, ~holds))

    parts = {"events": events, "registration": registration, "renewal": renewal, "end": past_end, "application": applications, "standing": standing}
    if last is not None:
        # a document issued since the last run (by it, or loaded on its day), or one that ended since: decided
        # again (what was sent may leave a gap, R-I6a 4; a certificate's renewal waits for the お知らせ beside it to end)
        parts["again"] = (select(q.c.id).select_from(q.join(d, d.c.qualification_id == q.c.id))
                          .where(mine(q.c.insurer_number), d.c.kind.in_(RENEWABLE_KINDS),
                                 or_(and_(d.c.issued >= last, d.c.issued < day), and_(d.c.expires >= last - ONE_DAY, d.c.expires < day))))
    return parts


def _kouki_reached(before: dt.date | None, now: dt.date | None):  # noqa: ANN202
    """R-I3g: who became old enough for the automatic certificate between two runs (a birth-date
    condition), None for no one."""
    if now is None or (before is not None and before >= now):
        return None
    if before is None:
        return lambda birth: birth <= now if now != dt.date.max else literal(True)
    if now == dt.date.max:
        return lambda birth: birth > before
    return lambda birth: and_(birth > before, birth <= now)


def all_ids(conn: Connection, day: dt.date, insurers: list[str] | None) -> list[int]:
    """Every member the insurers know on `day` (a full run: tests and `--all`)."""
    q = qualification
    query = select(q.c.id).where(or_(q.c.notified.is_(None), q.c.notified <= day)).order_by(q.c.id)
    if insurers is not None:
        query = query.where(q.c.insurer_number.in_(insurers))
    return [row[0] for row in conn.execute(query)]
