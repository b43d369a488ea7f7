"""The 不詳 checklist (RULES R-E1–E8): what a 不詳 claim must satisfy before it is filed.

Each failure is a `Finding` citing its rule, with a message a clerk can act on. Errors hold
the claim back (it is not written unless the facility insists); warnings are only told.

Re-confirmation (R-E6) is defined here as a later visit of the patient in the same month
(a later care date) whose online lookup was made, i.e. whose `verification_result` is not
`not_queried`. A claim read from a UKE file has no visits: R-E2, R-E5 and R-E6 cannot be
checked for it and are skipped.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Sequence

from ..domain.numbers import DISASTER_INSURER_NUMBER, UNKNOWN_INSURER_NUMBERS, normalise_insurer_number
from ..domain.frozen import quick_init
from .models import UNKNOWN_FILL, Claim, Finding, Remarks

CARD_KINDS = frozenset({"my_number_card", "smartphone"})
KNOWN_BASES = frozenset({"current", "document", "declared", "lost", "past_record"})
ITEM_NAMES = {
    "kana": "kana name (カナ氏名)",
    "insurance_kind": "insurance kind (保険種別: 社保/国保/後期/その他)",
    "insurer_name": "insurer name (保険者名)",
    "employer": "employer (事業所名)",
    "address": "address (住所)",
    "contact_phone": "contact phone (連絡先電話番号)",
}


@quick_init
@dataclass(frozen=True)
class VisitFacts:
    """What the checklist needs of one recorded visit (a row of the `visit` table)."""

    care_date: dt.date
    basis: str
    presented: frozenset[str] = frozenset()
    verification_result: str = "not_queried"
    insurer_number: str | None = None
    symbol: str = ""
    number: str = ""

    @property
    def known(self) -> bool:
        """The visit was billed on a known qualification (not 不詳, not self-pay)."""
        return self.basis in KNOWN_BASES and bool(self.insurer_number) and normalise_insurer_number(self.insurer_number) not in UNKNOWN_INSURER_NUMBERS

    def numbers_text(self) -> str:
        return f"{self.insurer_number} {'-'.join(x for x in (self.symbol, self.number) if x)}"


def check_unknown_claim(
    claim: Claim,
    *,
    visits: Sequence[VisitFacts] | None = None,
    month_visits: Sequence[VisitFacts] | None = None,
    earlier_known: Sequence[VisitFacts] | None = None,
) -> tuple[Finding, ...]:
    """R-E1–E8 for one 不詳 claim.

    visits: the visits the claim was built from; month_visits: all the patient's visits at the
    facility in the care month; earlier_known: the patient's earlier visits there on a known
    qualification. None when not known (a claim read from a file)."""
    out: list[Finding] = []
    remarks = claim.remarks or Remarks(kana=claim.kana)
    first = claim.first_day

    for key in remarks.missing():  # R-E1
        out.append(Finding("R-E1", f"R-E1: the remarks lack the {ITEM_NAMES[key]}" + (
            "; missing contact details are the most common reason for a return" if key == "contact_phone" else "")))

    if visits is not None:  # R-E2 / R-C3
        without = sorted({v.care_date for v in visits if not (v.presented & CARD_KINDS)})
        if without:
            shown = sorted({k for v in visits if v.care_date in without for k in v.presented}) or ["nothing"]
            out.append(Finding("R-E2", f"R-E2/R-C3: no マイナ保険証 was presented on {_days(without)} (presented: {', '.join(shown)}); "
                                       "a 不詳 claim is possible only when the patient presented the card"))

    if remarks.contact_date is None:  # R-E3
        out.append(Finding("R-E3", "R-E3: the date the facility contacted the patient (連絡日) is not recorded; "
                                   "contact the patient after the visit and record the date"))
    elif remarks.contact_date < first:
        out.append(Finding("R-E3", f"R-E3: the contact date {remarks.contact_date.isoformat()} is before the first visit day {first.isoformat()}"))

    if claim.relation not in ("self", "family"):  # R-E4
        out.append(Finding("R-E4", "R-E4: 本人/家族 (relation) is not recorded; ask the patient and record it"))

    if earlier_known:  # R-E5
        last = max(earlier_known, key=lambda v: v.care_date)
        out.append(Finding("R-E5", f"R-E5: patient {claim.patient_ref} was seen here on {last.care_date.isoformat()} on "
                                   f"{last.numbers_text()} (basis {last.basis}): bill on that past qualification (旧資格), not 不詳"))

    if month_visits is not None:  # R-E6
        later = sorted((v for v in month_visits if v.care_date > first), key=lambda v: v.care_date)
        found = [v for v in later if v.known]
        rechecked = [v for v in later if v.verification_result != "not_queried"]
        days = sorted({v.care_date for v in month_visits} | {claim.care_month.replace(day=d) for d in claim.care_days})
        if found:
            v = found[0]
            out.append(Finding("R-E6", f"R-E6: the qualification was confirmed again on {v.care_date.isoformat()} ({v.numbers_text()}): "
                                       "bill the month on what it found, not 不詳"))
        elif len(days) >= 2 and not rechecked:
            out.append(Finding("R-E6", f"R-E6: {len(days)} visit days ({_days(days)}) without confirming the qualification again "
                                       "(no later visit with an online lookup); confirm it and bill on what it finds"))

    if (first - claim.birth_date).days < 365:  # R-E7
        out.append(Finding("R-E7", f"R-E7: a newborn (born {claim.birth_date.isoformat()}): check that the card is registered for "
                                   "insurance use; a newborn who must be seen at once should get a 資格確認書 on enrolment", "warning"))

    insurer = normalise_insurer_number(claim.insurer_number)  # R-E8
    if insurer == DISASTER_INSURER_NUMBER:
        out.append(Finding("R-E8", "R-E8: 99999999 is the disaster rule's insurer number, not 不詳 (77777777)"))
    elif insurer not in UNKNOWN_INSURER_NUMBERS:
        out.append(Finding("R-E8", f"R-E8: a 不詳 claim carries 保険者番号 77777777 (or 77777779), not {claim.insurer_number}"))
    filled = [x for x in (claim.symbol, claim.number) if x]
    if not claim.number or any(set(x) != {UNKNOWN_FILL} for x in filled):
        out.append(Finding("R-E8", "R-E8: the 記号・番号 of a 不詳 claim are filled with 7"))
    return tuple(out)


def _days(days: Sequence[dt.date]) -> str:
    return ", ".join(d.isoformat() for d in days)
