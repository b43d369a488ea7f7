"""Properties of every decision (hypothesis-generated cases): internally consistent, never a
crash, and each claim basis only where the rules allow it."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from onshi.frontdesk.runner import decide_case

INSURERS = [("01130012", "5012", "341", "00"), ("06139984", "88", "1207", "00"), ("138057", "練01", "20417", "01"), ("39131156", "", "10457721", "")]
KINDS = ["my_number_card", "smartphone", "eligibility_certificate", "notice", "portal_screen", "insurance_card"]


def dates(lo: str, hi: str):  # noqa: ANN201
    return st.dates(dt.date.fromisoformat(lo), dt.date.fromisoformat(hi))


@st.composite
def qualification(draw, i: int):  # noqa: ANN001, ANN201
    insurer, symbol, number, branch = draw(st.sampled_from(INSURERS))
    start = draw(dates("2005-01-01", "2027-06-30"))
    end = draw(st.none() | st.dates(start, dt.date(2028, 6, 30)))
    registered = draw(st.none() | st.dates(start - dt.timedelta(days=30), start + dt.timedelta(days=60)))
    return {
        "id": f"q{i}", "insurer": insurer, "symbol": symbol, "number": number + str(i), "branch": branch,
        "relation": draw(st.sampled_from(["self", "family"])), "start": start, "end": end, "registered": registered,
        "income": draw(st.sampled_from(["general", "high"])),
        "kouki_ratio": draw(st.sampled_from([0.1, 0.2, 0.3])) if insurer.startswith("39") else None,
    }


@st.composite
def case(draw):  # noqa: ANN001, ANN201
    quals = [draw(qualification(i)) for i in range(draw(st.integers(0, 3)))]
    ids = [q["id"] for q in quals]
    card = None
    if draw(st.booleans()):
        issued = draw(dates("2016-01-01", "2027-12-31"))
        card = {"issued": issued, "insurance_registered": draw(st.none() | st.dates(issued, dt.date(2028, 6, 30)))}
    documents = []
    for kind in draw(st.lists(st.sampled_from(["eligibility_certificate", "notice", "portal_screen", "insurance_card"]), max_size=4)):
        doc = {"kind": kind, "qualification": draw(st.sampled_from(ids)) if ids else None}
        if kind in ("eligibility_certificate", "insurance_card"):
            issued = draw(dates("2024-01-01", "2027-12-31"))
            doc |= {"issued": issued, "expires": draw(st.dates(issued, dt.date(2031, 12, 31)))}
        documents.append(doc)
    return {
        "visit": {
            "date": draw(dates("2025-06-01", "2028-06-30")),
            "facility": {"online": draw(st.booleans()), "smartphone": draw(st.booleans()), "mobile_consent": draw(st.booleans())},
            "presented": draw(st.lists(st.sampled_from(KINDS), unique=True, max_size=4)),
            "device": draw(st.sampled_from(["ok", "ok", "reader_failure", "network_error", "chip_unreadable"])),
            "identity": draw(st.sampled_from(["face", "pin", "visual", "none"])),
            "consent": draw(st.booleans()),
            "patient_knows_numbers": draw(st.booleans()),
            "past_visit": draw(st.none() | st.sampled_from(ids)) if ids else None,
        },
        "person": {"birth_date": draw(dates("1930-01-01", "2025-12-31")), "sex": 1, "kana": "テスト", "qualifications": quals, "card": card, "documents": documents},
    }


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case())
def test_every_decision_is_internally_consistent(c):
    d = decide_case(c)
    basis, claim = d["claim"]["basis"], d["claim"]
    presented = set(c["visit"]["presented"])
    card_presented = bool(presented & {"my_number_card", "smartphone"})
    # self-pay ⇔ 10割 ⇔ not insured
    assert (basis == "self_pay") == (d["copay_ratio"] == 1.0) == (not d["insured"])
    if d["insured"]:
        assert d["copay_ratio"] in (0.1, 0.2, 0.3)
    else:
        assert "reimbursement" in d["actions"] and claim["qualification"] is None and claim["insurer"] is None
    # 不詳 ⇒ 77777777, the declaration form, and only after a マイナ保険証 was presented (R-C3, R-E2)
    if basis == "unknown":
        assert claim["insurer"] == "77777777" and claim["qualification"] is None
        assert "declaration_form" in d["actions"] and "unknown_claim_remarks" in d["actions"]
        assert card_presented
    if basis == "lost":
        assert card_presented and d["verification"]["result"] == "invalid"  # R-D2, R-C3
    if basis == "current":
        assert d["verification"]["result"] == "valid"
    if claim["qualification"] is not None:
        assert claim["qualification"] in {q["id"] for q in c["person"]["qualifications"]}
    # medical information only with a read card, identity verified, outside grace, with consent (R-D7)
    if d["medical_info"]:
        assert c["visit"]["consent"] and d["verification"]["method"] in ("my_number_card", "smartphone")
        assert d["verification"]["result"] != "not_queried" and c["visit"]["identity"] != "none"
        assert not {"cert_grace", "card_grace"} & set(d["alerts"])
    # the verification is a real lookup only when one was possible
    if d["verification"]["method"] != "none":
        assert c["visit"]["facility"]["online"] and c["visit"]["device"] != "network_error"
    assert set(d["rules"]) and all(isinstance(r, str) for r in d["rules"])
    assert decide_case(c) == d  # deterministic
