"""The issuance decision (../shared/domain/ISSUANCE.md) for one member on one run day, as a
pure function of (member, insurer, day, policy); and the batch form the run uses.

    engine = IssuanceEngine(load_policy())
    decision = engine.decide(member, insurer, day)                 # one member
    decisions = engine.decide_many(members, insurers, day)         # a batch, no I/O per member
    member = apply_decision(member, decision)                      # what the registry records

Order of work for one member (R-I6a's "the first that applies makes the run's document"):
1. held documents that end whatever is sent: R-I7c (the qualification ended), R-I7d (the
   card works again after a card_lost / card_renewal application);
2. the trigger: enrolment, change, renewal, standing (R-I6a, R-I6b);
3. certificate or お知らせ by certificate-eligibility on the document's first day (R-I3a–h,
   R-I4a–e), its dates (R-I6c, R-I6d) and what it replaces (R-I7a, R-I7b);
4. the registration notice besides (R-I5).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import replace
from functools import lru_cache
from itertools import count

from ..domain.card import grace_period_end
from ..domain.copay import elderly_start, kouki_start
from ..domain.dates import add_months, anniversary
from ..policy import Policy
from .models import (
    CERTIFICATE,
    CHANGE_EVENTS,
    NOTICE,
    REGISTRATION_NOTICE,
    Decision,
    HeldDocument,
    Insurer,
    Member,
    Period,
    Replacement,
)
from .rules import IssuanceRules, ResolvedOptions

ONE_DAY = dt.timedelta(days=1)
_RENEWABLE = (CERTIFICATE, NOTICE)


def _month_start(day: dt.date, months_before: int = 0) -> dt.date:
    return add_months(day.replace(day=1), -months_before) if months_before else day.replace(day=1)


@lru_cache(maxsize=65536)
def _grace_due(expiry: dt.date, grace_months: int, lead_months: int) -> dt.date:
    """R-I3d: the first day of the month (less `lead_months`) in which the grace of R-B2 ends."""
    return _month_start(grace_period_end(expiry, grace_months), lead_months)


def _first_on_or_after(day: dt.date, month_day: tuple[int, int]) -> dt.date:
    """The first MM-DD on or after `day` (R-I6c annual_end)."""
    candidate = dt.date(day.year, *month_day)
    return candidate if candidate >= day else dt.date(day.year + 1, *month_day)


class IssuanceEngine:
    """Decides members against one policy; caches what is in force per day and per insurer,
    so that a batch of a million members reads the policy a few hundred times, not millions."""

    def __init__(self, policy: Policy):
        self.policy = policy
        self._rules: dict[dt.date, IssuanceRules] = {}
        self._options: dict[tuple[int, dt.date], tuple[Insurer, ResolvedOptions]] = {}

    # ------------------------------------------------------------ policy in force

    def rules(self, day: dt.date) -> IssuanceRules:
        found = self._rules.get(day)
        if found is None:
            found = self._rules[day] = IssuanceRules.read(self.policy, day)
        return found

    def options(self, insurer: Insurer, day: dt.date) -> ResolvedOptions:
        key = (id(insurer), day)  # by identity: hashing the options model per member costs more than deciding
        found = self._options.get(key)
        if found is None or found[0] is not insurer:
            found = self._options[key] = (insurer, self.rules(day).options(insurer.kind, insurer.options))
        return found[1]

    # ------------------------------------------------------------ the batch

    def decide_many(self, members: Iterable[Member], insurers: Insurer | Mapping[str, Insurer], day: dt.date,
                    insurer_of: Mapping[str, str] | None = None) -> list[Decision]:
        """Decide a batch on run day `day`: with one Insurer for all, or a mapping of insurer
        number → Insurer and `insurer_of` (member id → insurer number). Pure: no I/O."""
        if isinstance(insurers, Insurer):
            return [self.decide(m, insurers, day) for m in members]
        if insurer_of is None:
            raise ValueError("insurer_of is needed when several insurers are given")
        return [self.decide(m, insurers[insurer_of[m.id]], day) for m in members]

    # ------------------------------------------------------------ one member

    def decide(self, member: Member, insurer: Insurer, day: dt.date) -> Decision:
        return _Decider(self, member, insurer, day).decide()


class _Decider:
    """One member on one run day: the member's derived dates are computed once."""

    __slots__ = ("engine", "m", "ins", "day", "kouki", "kokuho", "_kouki_start", "_copay70", "app", "rules_out", "warnings", "ends", "replaced", "_reasons")

    def __init__(self, engine: IssuanceEngine, member: Member, insurer: Insurer, day: dt.date):
        self.engine, self.m, self.ins, self.day = engine, member, insurer, day
        self.kouki, self.kokuho = insurer.kind == "kouki", insurer.kind == "kokuho"
        self._kouki_start = self._copay70 = None
        self._reasons: dict[tuple[dt.date, bool], list[str]] = {}
        app = member.application
        self.app = app if app is not None and app.date <= day else None  # R-I3f: dated on or before the run day
        self.rules_out: set[str] = set()
        self.warnings: list[str] = []
        self.ends: dict[str, dt.date | None] = {}  # effective ends of held certificates / お知らせ
        self.replaced: dict[str, tuple[dt.date, set[str]]] = {}

    # ------------------------------------------------------------ terms

    @property
    def kouki_start(self) -> dt.date:
        """The 75th birthday (R-P4)."""
        if self._kouki_start is None:
            self._kouki_start = kouki_start(self.m.birth_date)
        return self._kouki_start

    @property
    def copay70(self) -> dt.date:
        """R-P3: the copay-70 day (the 1st of the month after the 70th birthday; born on the 1st: the birthday)."""
        if self._copay70 is None:
            self._copay70 = elderly_start(self.m.birth_date)
        return self._copay70

    def usable(self, x: dt.date) -> bool:
        """A usable card on day x (ISSUANCE.md terms; R-B2 grace; R-I3a, R-I3e)."""
        m = self.m
        card = m.card
        if card is None or not m.my_number_linked or m.dv_flag:
            return False
        reg = card.insurance_registered
        if reg is None or reg > x:
            return False
        if (card.registration_cancelled is not None and card.registration_cancelled <= x) or (card.returned is not None and card.returned <= x):
            return False
        grace = self.engine.rules(x).grace_months
        return x <= grace_period_end(card.cert_expires, grace) and x <= grace_period_end(card.card_expires, grace)

    def card_works_again(self, x: dt.date) -> dt.date | None:
        """R-I7d: the day a card issued after a card_lost / card_renewal application works
        (the later of its issue and its insurance registration), when it is usable on x."""
        app, card = self.app, self.m.card
        if app is None or app.reason not in ("card_lost", "card_renewal") or card is None or card.issued <= app.date:
            return None
        if not self.usable(x):
            return None
        return max(card.issued, card.insurance_registered)  # usable → registered

    def reasons(self, x: dt.date, *, with_application: bool = True) -> list[str]:
        """R-I3a–h: the reasons a member is certificate-eligible on day x."""
        key = (x, with_application)
        found = self._reasons.get(key)
        if found is None:
            found = self._reasons[key] = self._eligible(x, with_application)
        return found

    def _eligible(self, x: dt.date, with_application: bool) -> list[str]:
        m, card, rules = self.m, self.m.card, self.engine.rules(x)
        out = []
        if card is None or not m.my_number_linked:
            out.append("R-I3a")
        if card is not None:
            if card.insurance_registered is None or card.insurance_registered > x:
                out.append("R-I3b")
            if (card.registration_cancelled is not None and card.registration_cancelled <= x) or (card.returned is not None and card.returned <= x):
                out.append("R-I3c")
            grace, lead = rules.grace_months, rules.grace_lead_months
            if x >= _grace_due(card.cert_expires, grace, lead) or x >= _grace_due(card.card_expires, grace, lead):
                out.append("R-I3d")
        if m.dv_flag:
            out.append("R-I3e")
        if self.kouki and self.kouki_automatic(x, rules):
            out.append("R-I3g")
        if with_application and self.app is not None:
            granted = self.application_grants(x, rules)
            if granted:
                out.extend(granted)
        if self.engine.options(self.ins, x).certificate_to_all:
            out.append("R-I3h")
        return sorted(set(out)) if len(out) > 1 else out

    def kouki_automatic(self, x: dt.date, rules: IssuanceRules) -> bool:
        """R-I3g / R-T3: every 後期 member through 2026-07-31; then those aged 85 or more on
        the 1 August that opens x's certificate year."""
        age = rules.kouki_automatic_age
        if age is None:
            return False
        if age <= 0:
            return True
        on = x
        if rules.kouki_age_on is not None:
            on = dt.date(x.year, *rules.kouki_age_on)
            if on > x:
                on = dt.date(x.year - 1, *rules.kouki_age_on)
        birth = self.m.birth_date
        return on.year - birth.year - ((on.month, on.day) < (birth.month, birth.day)) >= age

    def application_grants(self, x: dt.date, rules: IssuanceRules) -> list[str]:
        """R-I3f (and R-I3g for 後期): the rules under which the application grants a certificate on x."""
        reason = self.app.reason
        if reason in ("card_lost", "card_renewal") and self.card_works_again(x) is not None:
            return []  # R-I7d: until the card works again
        if reason in ("care", "card_lost", "card_renewal"):
            return ["R-I3f"]
        if self.kouki and reason in rules.kouki_granted:
            return ["R-I3f", "R-I3g"]  # 後期 from 2026-08: any application is granted, and kept
        return []  # `other`: refused (the member may cancel the registration instead, R-I3c)

    # ------------------------------------------------------------ dates (R-I6c, R-I6d)

    def certificate_end(self, first: dt.date) -> dt.date:
        """R-I6c: the insurer's term, capped by 5 years, the qualification's end, outside 後期
        the day before the 75th birthday, and for 国保 before the copay-70 day the day before it."""
        opts, rules = self.engine.options(self.ins, first), self.engine.rules(first)
        if opts.certificate_until is not None and opts.certificate_until >= first:
            end = opts.certificate_until
        else:
            if opts.certificate_until is not None:
                self.warnings.append(f"certificate_until {opts.certificate_until.isoformat()} is before the first day {first.isoformat()}: ignored")
            if opts.annual_end is not None:
                end = _first_on_or_after(first, opts.annual_end)
            else:  # the last day of the month before the Nth anniversary of the first day
                end = anniversary(first, opts.certificate_years).replace(day=1) - ONE_DAY
        end = min(end, anniversary(first, rules.max_years) - ONE_DAY)
        return self._caps(end, first, certificate=True)

    def notice_end(self, first: dt.date) -> dt.date | None:
        """R-I6d: none, except 後期 (as a 後期 certificate), 70+ (the next annual_end) and 国保
        before the copay-70 day (the day before it)."""
        if self.kouki:
            return self.certificate_end(first)
        if first >= self.copay70:
            annual = self.engine.options(self.ins, first).annual_end or self.engine.rules(first).notice_annual_end
            return self._caps(_first_on_or_after(first, annual), first, certificate=False)
        if self.kokuho:
            return self._caps(self.copay70 - ONE_DAY, first, certificate=False)
        return self.m.qualification.end  # an open お知らせ still ends with the qualification (R-I7c)

    def _caps(self, end: dt.date, first: dt.date, *, certificate: bool) -> dt.date:
        q_end = self.m.qualification.end
        if q_end is not None and q_end < end:
            end = q_end
        if not self.kouki and self.kouki_start - ONE_DAY < end:
            end = self.kouki_start - ONE_DAY
        if certificate and self.kokuho and first < self.copay70 and self.copay70 - ONE_DAY < end:
            end = self.copay70 - ONE_DAY
        return end

    # ------------------------------------------------------------ the decision

    def replace(self, doc_id: str, until: dt.date, rule: str) -> None:
        prior = self.replaced.get(doc_id)
        if prior is None:
            self.replaced[doc_id] = (until, {rule})
        else:
            self.replaced[doc_id] = (min(prior[0], until), prior[1] | {rule})
        if self.ends.get(doc_id) is None or until < self.ends[doc_id]:
            self.ends[doc_id] = until

    def void(self, d: HeldDocument) -> bool:
        end = self.ends[d.id]
        return end is not None and end < d.valid_from

    def decide(self) -> Decision:
        m, day = self.m, self.day
        q = m.qualification
        held = [d for d in m.documents if d.kind in _RENEWABLE]
        self.ends = {d.id: d.expires for d in held}

        # R-I7c: once the last day is known, documents running past it end on it.
        if q.end is not None:
            for d in held:
                if self.ends[d.id] is None or self.ends[d.id] > q.end:
                    self.replace(d.id, q.end, "R-I7c")

        # R-I7d: the card works again after a card_lost / card_renewal application.
        application = None
        works = self.card_works_again(day)
        if works is not None:
            application = "ended"
            if not self.reasons(day, with_application=False):
                for d in held:
                    if d.kind == CERTIFICATE and d.issued >= self.app.date and (self.ends[d.id] is None or self.ends[d.id] > works):
                        self.replace(d.id, works, "R-I7d")

        ended = q.end is not None and day > q.end  # after the last day nothing is issued (R-I7c)
        certificate = notice = trigger = None
        reasons: list[str] = []
        if not ended and not any(d.issued >= day for d in held):  # a rerun the same day: already sent
            found = self.trigger(held)
            if found is not None and (q.end is None or found[1] <= q.end):
                trigger, certificate, notice, reasons = self.document(held, *found)

        # R-I3f: the application's fate (refused → cited even when nothing is sent).
        if self.app is not None and application is None:
            x = certificate.valid_from if certificate else notice.valid_from if notice else day
            granted = self.application_grants(x, self.engine.rules(x))
            if granted:
                application = "granted"
            elif self.reasons(x, with_application=False):
                application = "not_needed"
            else:
                application = "refused"
                self.rules_out.add("R-I3f")

        registration = not ended and self.registration_due()
        if registration:
            self.rules_out.add("R-I5")
        for until, rules in self.replaced.values():
            self.rules_out.update(rules)
        replaces = tuple(Replacement(i, until, tuple(sorted(rules))) for i, (until, rules) in self.replaced.items())
        return Decision(
            member_id=m.id, day=day, certificate=certificate, notice=notice, registration_notice=registration, replaces=replaces,
            rules=tuple(sorted(self.rules_out)), trigger=trigger, reasons=tuple(reasons if certificate else ()), application=application,
            warnings=tuple(self.warnings),
        )

    def document(self, held: list[HeldDocument], trigger: str, first: dt.date, extra: tuple[str, ...], current: HeldDocument | None):  # noqa: ANN201
        """The run's certificate or お知らせ for a trigger: a certificate when certificate-eligible
        on the first day (R-I3), else an お知らせ (R-I4); its dates (R-I6c/d); what it replaces (R-I7a/b)."""
        certificate = notice = None
        reasons = self.reasons(first)
        if reasons:
            end = self.certificate_end(first)
            if end >= first:
                certificate = Period(first, end)
                self.rules_out.update(reasons)
                self.rules_out.add("R-I6c")
            else:
                self.warnings.append(f"no certificate: its end {end.isoformat()} would be before its first day {first.isoformat()}")
        elif not self.notice_already_held(current, first, trigger):
            end = self.notice_end(first)
            if end is None or end >= first:
                notice = Period(first, end)
                self.rules_out.add("R-I4c" if self.kouki else {"enrolment": "R-I4a", "change": "R-I4b", "renewal": "R-I4e"}[trigger])
                self.rules_out.add("R-I6d")
            else:
                self.warnings.append(f"no お知らせ: its end {end.isoformat()} would be before its first day {first.isoformat()}")
        if certificate is None and notice is None:
            return None, None, None, []
        self.rules_out.update(extra)
        self.rules_out.add("R-I6a")
        if self.kouki:
            self.rules_out.add("R-T3")
        if trigger == "renewal":  # R-I7a: the renewed document ends on its own end date
            self.replace(current.id, self.ends[current.id], "R-I7a")
        elif trigger in ("change", "enrolment"):  # R-I7b: documents running into the new one end the day before
            for d in held:
                if self.ends[d.id] is None or self.ends[d.id] >= first:
                    self.replace(d.id, first - ONE_DAY, "R-I7b")
        return trigger, certificate, notice, reasons

    def trigger(self, held: list[HeldDocument]):  # noqa: ANN201
        """R-I6a: (trigger, first day, extra rules, current document) of the first that applies."""
        m, day, q = self.m, self.day, self.m.qualification
        rules = self.engine.rules(day)
        # 1. enrolment
        for ev in sorted((e for e in m.events if e.kind == "acquisition"), key=lambda e: e.date, reverse=True):
            due, extra = ev.date, ()
            if self.kouki and ev.date == self.kouki_start:  # R-I6b: the month before the month of the day before the birthday
                due, extra = _month_start(ev.date - ONE_DAY, rules.kouki_lead_months), ("R-I6b",)
            if day >= due and not any(d.issued >= due for d in held):
                return "enrolment", max(day, ev.date), extra, None
            break  # only the latest acquisition counts
        # 2. change (R-I4b): the copay counts only where it is printed (後期, or from the copay-70 day)
        covered = q.start <= day and (q.end is None or day <= q.end)
        for ev in sorted((e for e in m.events if e.kind in CHANGE_EVENTS and e.date <= day), key=lambda e: e.date, reverse=True):
            if ev.kind == "copay_changed" and not (self.kouki or ev.date >= self.copay70):
                continue
            if any(d.issued >= ev.date or d.valid_from >= ev.date for d in held):
                continue
            if covered:
                return "change", day, (), None
        # 3. renewal of the current document (the latest first day; a voided one does not count)
        live = [d for d in held if not self.void(d)]
        current = max(live, key=lambda d: (d.valid_from, d.issued), default=None)
        if current is not None and self.ends[current.id] is not None:
            end = self.ends[current.id]
            if self.renewable(end, rules):
                return "renewal", max(day, end + ONE_DAY), (), current
        # 3b. a certificate ending soon behind a later お知らせ (sent while the card worked): a member
        # who needs a certificate after its end gets one, before it ends (not the day after, by R-I6a 4).
        for cert in sorted((d for d in live if d.kind == CERTIFICATE and d is not current and self.ends[d.id] is not None),
                           key=lambda d: self.ends[d.id], reverse=True):
            end = self.ends[cert.id]
            # not when another certificate runs past it (started after it, or before it and longer: an
            # old 保険証 ending 2025-12-01 behind a certificate already sent, in the registry's history)
            if not any(d.kind == CERTIFICATE and d is not cert and (self.ends[d.id] is None or self.ends[d.id] > end) for d in live) \
                    and self.renewable(end, rules):
                first = max(day, end + ONE_DAY)
                if self.reasons(first):
                    return "renewal", first, (), cert
            break
        # 4. standing: covered, certificate-eligible, no certificate valid on the day
        if covered and self.reasons(day):
            holds = any(d.kind == CERTIFICATE and d.valid_from <= day and (self.ends[d.id] is None or day <= self.ends[d.id]) for d in live)
            if not holds:
                return "standing", day, (), None
        return None

    def renewable(self, end: dt.date, rules: IssuanceRules) -> bool:
        """R-I6a 3: inside the renewal window of a document ending on `end`, and the member still
        belongs the day after (qualification open past it; outside 後期, before the 75th birthday)."""
        q, after = self.m.qualification, end + ONE_DAY
        belongs = (q.end is None or q.end > end) and (self.kouki or after < self.kouki_start) and q.start <= after
        return belongs and self.day >= _month_start(end, rules.renewal_lead_months)

    def notice_already_held(self, current: HeldDocument | None, first: dt.date, trigger: str) -> bool:
        """R-I4e: no お知らせ renewal for a member who holds another お知らせ valid on its first day."""
        if trigger != "renewal":
            return False
        return any(
            d.kind == NOTICE and d is not current and not self.void(d) and d.valid_from <= first and (self.ends[d.id] is None or self.ends[d.id] >= first)
            for d in self.m.documents if d.kind == NOTICE
        )

    def registration_due(self) -> bool:
        """R-I5: a registration_done event, once, to a member with a usable card on the run day."""
        done = [e.date for e in self.m.events if e.kind == "registration_done" and e.date <= self.day]
        if not done:
            return False
        latest = max(done)
        if any(d.kind == REGISTRATION_NOTICE and d.issued >= latest for d in self.m.documents):
            return False
        return self.usable(self.day)


# ---------------------------------------------------------------- conveniences

_ENGINES: dict[int, IssuanceEngine] = {}


def engine_for(policy: Policy) -> IssuanceEngine:
    """One engine (and its caches) per policy object."""
    found = _ENGINES.get(id(policy))
    if found is None or found.policy is not policy:
        if len(_ENGINES) > 8:
            _ENGINES.clear()
        found = _ENGINES[id(policy)] = IssuanceEngine(policy)
    return found


def decide(member: Member, insurer: Insurer, day: dt.date, policy: Policy) -> Decision:
    """The decision for one member on run day `day` (pure given its inputs)."""
    return engine_for(policy).decide(member, insurer, day)


def apply_decision(member: Member, decision: Decision, ids: Iterable[str] | None = None) -> Member:
    """The member as the registry holds them after recording `decision`: the documents sent
    (issued on the run day) added, the replaced ones given their new end. A rerun of the same
    day on the result sends nothing (R-I6a)."""
    new_ids = iter(ids) if ids is not None else (f"{member.id}-{decision.day.isoformat()}-{i}" for i in count(1))
    ends = {r.id: r.valid_until for r in decision.replaces}
    documents = [replace(d, expires=ends[d.id]) if d.id in ends else d for d in member.documents]
    for doc in decision.documents():
        documents.append(HeldDocument(next(new_ids), doc.kind, decision.day, doc.valid_from, doc.expires))
    return replace(member, documents=tuple(documents))
