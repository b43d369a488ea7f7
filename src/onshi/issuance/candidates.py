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
- **standing**: covered on D, no certificate valid on D, and possibly certificate-eligible:
  no card that works on D and for a while after (R-I3a–d), no My Number (R-I3a), the
  insurer's DV flag (R-I3e), 後期 and old enough for the automatic certificate (R-I3g), or an
  insurer that sends a certificate to all (R-I3h) — applicants are candidates already.
"""

from __future__ import annotations

import datetime as dt

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


def candidate_ids(conn: Connection, day: dt.date, insurers: list[str] | None, last_run: dt.date | None, rules: IssuanceRules,
                  certificate_to_all: list[str]) -> list[int]:
    """The qualification ids a run on `day` decides (insurers: None = every insurer): one statement."""
    parts = candidate_parts(day, insurers, last_run, rules, certificate_to_all)
    q = qualification
    everything = union(*parts.values()).subquery()
    known = or_(q.c.notified.is_(None), q.c.notified <= day)
    ids = select(everything.c[0]).select_from(everything.join(q, q.c.id == everything.c[0])).where(known).order_by(everything.c[0])
    return [row[0] for row in conn.execute(ids)]


def candidate_counts(conn: Connection, day: dt.date, insurers: list[str] | None, last_run: dt.date | None, rules: IssuanceRules,
                     certificate_to_all: list[str]) -> dict[str, int]:
    """How many members each reason selects (they overlap): to explain a run's size."""
    parts = candidate_parts(day, insurers, last_run, rules, certificate_to_all)
    return {name: conn.execute(select(func.count()).select_from(part.subquery())).scalar_one() for name, part in parts.items()}


def candidate_parts(day: dt.date, insurers: list[str] | None, last_run: dt.date | None, rules: IssuanceRules,
                    certificate_to_all: list[str]) -> dict:
    """The selects of each reason, by name."""
    q, d, d2, c, a, e = qualification, document.alias("d"), document.alias("d2"), card, certificate_application, member_event

    def mine(column):  # noqa: ANN001, ANN202
        return column.in_(insurers) if insurers is not None else literal(True)

    known = or_(q.c.notified.is_(None), q.c.notified <= day)
    first_day = func.coalesce(d.c.valid_from, d.c.issued)

    # events recorded since the last run, or falling due since then
    events = select(e.c.qualification_id).where(mine(e.c.insurer_number), e.c.recorded <= day, e.c.kind != "loss")  # losses: `end`
    if last_run is not None:
        events = events.where(or_(e.c.recorded >= last_run, and_(e.c.kind == "acquisition", e.c.date >= last_run)))

    # R-I5: a registration notice not sent yet (it waits for a usable card)
    sent = exists().where(d.c.qualification_id == e.c.qualification_id, d.c.kind == "registration_notice", d.c.issued >= e.c.date)
    registration = (select(e.c.qualification_id).select_from(e.join(q, q.c.id == e.c.qualification_id))
                    .where(mine(e.c.insurer_number), e.c.kind == "registration_done", e.c.recorded <= day, or_(q.c.end.is_(None), q.c.end >= day), ~sent))

    # renewal: the current document ends in the window (R-I6a 3), or a certificate still valid ends
    # there behind a later お知らせ (3b; once it has ended, `standing` finds the member); the member
    # still belongs the day after
    first2 = func.coalesce(d2.c.valid_from, d2.c.issued)
    later = exists().where(d2.c.qualification_id == d.c.qualification_id, d2.c.kind.in_(RENEWABLE_KINDS), d2.c.issued <= day,
                           first2 > first_day, or_(d2.c.expires.is_(None), d2.c.expires >= first2))
    renewal = (
        select(d.c.qualification_id).select_from(d.join(q, q.c.id == d.c.qualification_id))
        .where(mine(q.c.insurer_number), known, d.c.kind.in_(RENEWABLE_KINDS), d.c.issued <= day, d.c.expires.is_not(None),
               d.c.expires <= renewal_horizon(day, rules), or_(q.c.end.is_(None), q.c.end > d.c.expires),
               or_(~later, and_(d.c.kind.in_(CERTIFICATE_KINDS), d.c.expires >= day)))
    )

    # R-I7c: documents running past a known last day
    past_end = (
        select(q.c.id).where(mine(q.c.insurer_number), q.c.end.is_not(None), exists().where(
            d.c.qualification_id == q.c.id, d.c.kind.in_(RENEWABLE_KINDS), d.c.issued <= day, or_(d.c.expires.is_(None), d.c.expires > q.c.end)))
    )

    # applications (R-I3f, R-I7d): few, and their decision is kept current
    applications = select(a.c.qualification_id).where(mine(a.c.insurer_number), a.c.date <= day)

    # standing: covered, no certificate on D, possibly certificate-eligible
    # R-I3d: a certificate is due from the first day of the month the grace ends (less the lead): a
    # card expiring before this day is due on D
    lead = add_months(day.replace(day=1), rules.grace_lead_months + 1 - rules.grace_months)
    works = exists().where(
        c.c.person_id == q.c.person_id, c.c.issued <= day, or_(c.c.revoked.is_(None), c.c.revoked > day),
        c.c.insurance_registered <= day, or_(c.c.registration_cancelled.is_(None), c.c.registration_cancelled > day),
        or_(c.c.returned.is_(None), c.c.returned > day), c.c.cert_expires >= lead, c.c.card_expires >= lead,
    )
    holds = exists().where(d.c.qualification_id == q.c.id, d.c.kind.in_(CERTIFICATE_KINDS), d.c.issued <= day, first_day <= day,
                           or_(d.c.expires.is_(None), d.c.expires >= day))
    cutoff = kouki_cutoff(day, rules)
    kouki = and_(insurer.c.kind == "kouki", person.c.birth_date <= cutoff) if cutoff is not None else false()
    to_all = q.c.insurer_number.in_(certificate_to_all) if certificate_to_all else false()
    standing = (
        select(q.c.id).select_from(q.join(person, person.c.id == q.c.person_id).join(insurer, insurer.c.number == q.c.insurer_number))
        .where(mine(q.c.insurer_number), known, q.c.start <= day, or_(q.c.end.is_(None), q.c.end >= day), ~holds,
               or_(~works, person.c.my_number_hash.is_(None), dv_flag_of(q.c.insurer_number, q.c.person_id), kouki, to_all))
    )

    return {"events": events, "registration": registration, "renewal": renewal, "end": past_end, "application": applications, "standing": standing}


def all_ids(conn: Connection, day: dt.date, insurers: list[str] | None) -> list[int]:
    """Every member the insurers know on `day` (a full run: tests and `--all`)."""
    q = qualification
    query = select(q.c.id).where(or_(q.c.notified.is_(None), q.c.notified <= day)).order_by(q.c.id)
    if insurers is not None:
        query = query.where(q.c.insurer_number.in_(insurers))
    return [row[0] for row in conn.execute(query)]
