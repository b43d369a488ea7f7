"""The front-desk engine's decisions remembered by what decides them (a simulated month).

A simulated month of a million people decides two million visits, but they follow about 150
paths through the engine (a chunk of 20,000 people: the card read and valid at 3割, an expired
insurance card looked up by its numbers inside the interim period, nothing shown…). The
engine's path is a pure function of:

- the visit (facility, documents shown, reader, identity check, consent, numbers told) and the
  day (the policy of the day; which documents are within their dates);
- the shape of what the patient holds: a registered card or not, each document's kind, whether
  it is within its dates that day, unexpired, carries numbers and of which insurer kind (the
  interim rules are by kind), numbers told, a past record;
- the registry's answers, each reduced to what the engine branches on: validity, error, the
  card's alerts and grace, whether medical information may be shown.

What differs between two visits on one path is only copied through: the qualification the claim
uses (the last answer's, a document's, the numbers told or the past record), its numbers, the
copay of the patient's age and income, the person's id. So the memo keys each path step by step:
the first key is the visit's and patient's shape; the lookup the engine made next is remembered
with it, made for the new patient through the port (logged as the engine would), and its reduced
answer extends the key, until the key names a decision. The decision is then the remembered
one with the new visit, patient, answers and qualification, and the copay the engine computes
for them (`_Desk.copay_for`, `_Desk.unknown`, the answer's own). Any key not seen yet runs the
engine itself, which records the path.

It remembers the outcome, not the explanation: a remembered decision carries no notes and no
certificate dates (what `to_json(explained=False)` leaves out anyway); the simulation stores
only the compact decision. tests/test_stats_memo.py decides every visit of simulated months
both ways and compares every field the engine's decision has besides those two.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..frontdesk.engine import Claim, Decision, Document, Patient, QualificationRow, Visit, _Desk, _insurer_kind, decide
from ..registry.lookup import LookupResult

_LEAF = "leaf"


def _document_shape(d: Document, day: dt.date) -> tuple:
    q = d.qualification
    return (d.kind, q is None, d.within_dates(day), d.expires is not None and d.expires >= day,
            _insurer_kind(q.insurer_number) if q is not None else None)


def shape(visit: Visit, patient: Patient) -> tuple:
    """What of the visit and the patient the engine branches on (the module's docstring)."""
    day = visit.date
    return (visit.facility, visit.presented, visit.device, visit.identity, visit.consent, visit.patient_knows_numbers, visit.past_visit,
            day, patient.insurance_card_user, patient.card_serial is None, patient.declared is None, patient.past_record is None,
            tuple(_document_shape(d, day) for d in patient.documents))


def answer_shape(result: LookupResult) -> tuple:
    """What of a registry answer the engine branches on."""
    card = result.card
    return (result.method, result.validity, result.error, result.qualification is None, result.medical_info_available,
            None if card is None else (card.alerts, card.in_grace))


@dataclass(frozen=True)
class _Outcome:
    """A remembered decision: what is the same on its path, and where the rest comes from."""

    insured: bool
    basis: str
    qualification: tuple | None  # ("answer",) | ("document", i) | ("declared",) | ("past_record",) | None
    insurer: str | None  # the claim's number when it has no qualification (不詳)
    verification_method: str
    verification_result: str
    medical_info: bool
    actions: tuple[str, ...]
    alerts: tuple[str, ...]
    rules: tuple[str, ...]
    sources: tuple


class _RecordingPort:
    """The engine's port, noting which lookup it made with which patient field and the answer."""

    def __init__(self, port, patient: Patient):  # noqa: ANN001
        self.port, self.patient, self.steps = port, patient, []

    def by_card(self, serial: str, *, identity: str, day: dt.date, method: str) -> LookupResult:
        result = self.port.by_card(serial, identity=identity, day=day, method=method)
        call = ("card", method) if serial == (self.patient.card_serial or "") else None
        self.steps.append((call, result))
        return result

    def by_numbers(self, q: QualificationRow, birth_date: dt.date, day: dt.date) -> LookupResult:
        result = self.port.by_numbers(q, birth_date, day)
        index = next((i for i, d in enumerate(self.patient.documents) if d.qualification is q), None)
        call = ("numbers", index) if index is not None and birth_date == self.patient.birth_date else None
        self.steps.append((call, result))
        return result


class DecisionMemo:
    """Remembered paths of one policy (a Simulator's), for any number of chunks and days."""

    def __init__(self) -> None:
        self.steps: dict[tuple, tuple] = {}  # key so far → the next lookup, or _LEAF
        self.outcomes: dict[tuple, _Outcome] = {}
        self.hits = self.misses = 0

    def decide(self, visit: Visit, patient: Patient, port, policy) -> Decision:  # noqa: ANN001
        """The engine's decision, from memory when the path is known, else from the engine."""
        key = (shape(visit, patient),)
        results: list[LookupResult] = []
        pending: list = []  # the lookups made while walking, logged only if the walk ends in a decision
        log = getattr(port, "log", None)
        while True:
            step = self.steps.get(key)
            if step is None:
                break
            if step == _LEAF:
                outcome = self.outcomes[key]
                if log is not None:
                    for entry in pending:
                        log(entry)
                self.hits += 1
                return self._decision(outcome, visit, patient, results, port, policy)
            result = self._lookup(step, visit, patient, port, pending)
            results.append(result)
            key = key + (answer_shape(result),)
        self.misses += 1
        return self._record(visit, patient, port, policy)

    # -------------------------------------------------------- walking

    @staticmethod
    def _lookup(step: tuple, visit: Visit, patient: Patient, port, pending: list) -> LookupResult:  # noqa: ANN001
        held, port.log = port.log, pending.append  # logged once the walk reaches a decision
        try:
            if step[0] == "card":
                return port.by_card(patient.card_serial or "", identity=visit.identity, day=visit.date, method=step[1])
            return port.by_numbers(patient.documents[step[1]].qualification, patient.birth_date, visit.date)
        finally:
            port.log = held

    def _decision(self, o: _Outcome, visit: Visit, patient: Patient, results: list[LookupResult], port, policy) -> Decision:  # noqa: ANN001
        desk = _Desk(visit, patient, port, policy)
        q, percent = None, None
        source = o.qualification
        if source is not None:
            if source[0] == "answer":  # _Desk.current / the lost qualification of R-D2: the answer's row
                a = results[-1].qualification
                q = QualificationRow(
                    id=a.id, insurer_number=a.insurer_number, symbol=a.symbol, number=a.number, branch=a.branch, relation=a.relation,
                    start=a.start, end=a.end, registered=None, insurer_name=a.insurer_name, income=a.income, kouki_ratio=a.kouki_ratio,
                )
                if o.basis == "current":
                    percent = a.copay_percent
            elif source[0] == "document":
                q = patient.documents[source[1]].qualification
            else:
                q = patient.declared if source[0] == "declared" else patient.past_record
        if o.basis == "self_pay":
            percent = desk.self_pay("").copay_percent
        elif o.basis == "unknown":
            percent = desk.unknown().copay_percent
        elif percent is None:
            percent = desk.copay_for(q)
        claim = Claim(o.basis, q, q.insurer_number if q is not None else o.insurer, (q.insurer_name or None) if q is not None else None)
        return Decision(
            visit=visit, patient=patient, insured=o.insured, copay_percent=percent, claim=claim, verification_method=o.verification_method,
            verification_result=o.verification_result, medical_info=o.medical_info, actions=list(o.actions), alerts=list(o.alerts),
            rules=list(o.rules), sources=dict(o.sources), lookups=list(results), notes=[], certificate=None,
        )

    # -------------------------------------------------------- recording

    def _record(self, visit: Visit, patient: Patient, port, policy) -> Decision:  # noqa: ANN001
        recording = _RecordingPort(port, patient)
        decision = decide(visit, patient, recording, policy)
        if any(call is None for call, _ in recording.steps):
            return decision  # a lookup not made with the patient's own card or documents: not remembered
        source = self._source(decision, patient, [r for _, r in recording.steps])
        if source is False:
            return decision
        key = (shape(visit, patient),)
        for call, result in recording.steps:
            known = self.steps.setdefault(key, call)
            if known != call:
                raise AssertionError(f"the engine's path is not a function of the shape: {known} then {call} at {key}")
            key = key + (answer_shape(result),)
        claim = decision.claim
        outcome = _Outcome(
            insured=decision.insured, basis=claim.basis, qualification=source, insurer=claim.insurer if claim.qualification is None else None,
            verification_method=decision.verification_method, verification_result=decision.verification_result,
            medical_info=decision.medical_info, actions=tuple(decision.actions), alerts=tuple(decision.alerts), rules=tuple(decision.rules),
            sources=tuple(decision.sources.items()),
        )
        known = self.outcomes.setdefault(key, outcome)
        if known != outcome:
            raise AssertionError(f"two decisions on one path: {known} and {outcome}")
        self.steps.setdefault(key, _LEAF)
        return decision

    @staticmethod
    def _source(decision: Decision, patient: Patient, results: list[LookupResult]) -> tuple | None | bool:
        """Where the claim's qualification came from (False: from nowhere the memo can name)."""
        q = decision.claim.qualification
        if q is None:
            return None
        if decision.claim.basis in ("current", "lost") and results and results[-1].qualification is not None \
                and results[-1].qualification.id == q.id:
            return ("answer",)
        for i, d in enumerate(patient.documents):
            if d.qualification is q:
                return ("document", i)
        if q is patient.declared:
            return ("declared",)
        if q is patient.past_record:
            return ("past_record",)
        return False


__all__ = ["DecisionMemo", "answer_shape", "shape"]
