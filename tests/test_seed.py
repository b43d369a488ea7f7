"""The seeded population (registry/seed.py): deterministic, well-formed, and realistic
enough to exercise the rules (R-P5, R-P4, R-I1, R-I3, R-T3, R-B1–B4, R-D4, R-I2)."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict

import pytest
from sqlalchemy import select, text

from onshi.domain.card import card_status
from onshi.domain.charset import is_representable
from onshi.domain.copay import kouki_start
from onshi.domain.names import fold_name
from onshi.domain.numbers import parse_insurer_number
from onshi.registry import db, schema
from onshi.registry.security import api_key_hash
from onshi.registry.keys import attach_keys
from onshi.registry.seed import sample_people, seed_registry
from onshi.registry.service import Principal, Registry

N = 2000
TODAY = dt.date(2026, 11, 23)


def _seeded(path, seed: int = 1):  # noqa: ANN001, ANN202
    engine = db.make_engine(f"sqlite:///{path}")
    db.migrate(engine)
    summary = seed_registry(engine, N, seed=seed, today=TODAY, progress=False)
    return engine, summary


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):  # noqa: ANN001, ANN201
    engine, summary = _seeded(tmp_path_factory.mktemp("seed") / "registry.sqlite3")
    yield engine, summary
    engine.dispose()


@pytest.fixture(scope="module")
def rows(seeded):  # noqa: ANN001, ANN201
    """Every row of the seeded tables, as dicts."""
    engine, _ = seeded
    with engine.connect() as conn:
        return {t.name: [dict(r._mapping) for r in conn.execute(select(t))] for t in schema.TABLES_IN_LOAD_ORDER}


def _dump(engine, table) -> list[tuple]:  # noqa: ANN001
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(table).order_by(*table.primary_key.columns))]


def test_same_seed_gives_the_same_population_and_another_seed_another(seeded, tmp_path) -> None:  # noqa: ANN001
    engine, summary = seeded
    again, again_summary = _seeded(tmp_path / "again.sqlite3")
    other, _ = _seeded(tmp_path / "other.sqlite3", seed=2)
    for table in (schema.person, schema.qualification, schema.card, schema.document, schema.resident):
        assert _dump(again, table) == _dump(engine, table), table.name
    for table in (schema.person, schema.qualification, schema.card):
        assert _dump(other, table) != _dump(engine, table), table.name
    assert (again_summary.people, again_summary.cards) == (summary.people, summary.cards)
    # the keys are the one thing a seed does not decide: random, never computable from the seed (issue 10)
    assert again_summary.demo_facility_key != summary.demo_facility_key
    again.dispose()
    other.dispose()


def test_summary_counts_the_rows(seeded, rows) -> None:  # noqa: ANN001
    _, summary = seeded
    assert summary.people == N == len(rows["person"])
    assert summary.qualifications == len(rows["qualification"]) > N
    assert summary.cards == len(rows["card"])
    assert summary.documents == len(rows["document"])
    assert summary.insurers == len(rows["insurer"])
    assert summary.facilities == len(rows["facility"]) >= 20


def test_insurer_numbers_carry_valid_check_digits_and_their_kind(rows) -> None:  # noqa: ANN001
    """R-P5."""
    for insurer in rows["insurer"]:
        parsed = parse_insurer_number(insurer["number"])
        assert parsed.kind == insurer["kind"], insurer
        assert parsed.prefecture_code == insurer["prefecture"], insurer
    kinds = {i["kind"] for i in rows["insurer"]}
    assert kinds == {"kyokai", "kumiai", "kyosai", "kokuho", "kouki"}
    assert sum(i["kind"] == "kyokai" for i in rows["insurer"]) == 47
    assert sum(i["kind"] == "kouki" for i in rows["insurer"]) == 47


def test_the_example_insurers_exist(rows) -> None:  # noqa: ANN001
    insurers = {i["number"]: i for i in rows["insurer"]}
    assert insurers["01130012"]["name"] == "全国健康保険協会東京支部"
    assert insurers["06139984"]["kind"] == "kumiai"
    assert insurers["138057"]["name"] == "練馬区"
    assert insurers["39131156"]["name"] == "東京都後期高齢者医療広域連合"


def test_the_seed_writes_only_random_demo_keys(seeded, rows) -> None:  # noqa: ANN001
    """Issue 10 item 4: no key is derived from the seed; the demo facility and insurer get a
    random key each (shown once), every other key comes from `onshi keys create`."""
    _, summary = seeded
    by_hash = {k["key_hash"]: (k["role"], k["subject"], k["label"]) for k in rows["api_key"]}
    assert sorted(by_hash.values()) == sorted([("facility", summary.demo_facility_code, "demo"), ("insurer", summary.demo_insurer_number, "demo")])
    assert by_hash[api_key_hash(summary.demo_facility_key)][:2] == ("facility", summary.demo_facility_code)
    assert by_hash[api_key_hash(summary.demo_insurer_key)][:2] == ("insurer", summary.demo_insurer_number)
    assert summary.demo_facility_code not in summary.demo_facility_key and len(summary.demo_facility_key) >= 40


def test_facilities_include_paper_claim_ones(rows) -> None:  # noqa: ANN001
    """R-T4: some facilities cannot verify online."""
    facilities = rows["facility"]
    assert any(not f["online"] for f in facilities) and sum(f["online"] for f in facilities) > len(facilities) * 0.9
    assert all(re.fullmatch(r"\d{2}[134]\d{7}", f["code"]) for f in facilities)


def test_every_person_has_a_resident_row_and_a_hashed_my_number(rows) -> None:  # noqa: ANN001
    residents = {r["my_number_hash"]: r for r in rows["resident"]}
    assert len(residents) == N
    people = {p["id"]: p for p in rows["person"]}
    for person in rows["person"]:
        assert re.fullmatch(r"[0-9a-f]{64}", person["my_number_hash"])
        resident = residents[person["my_number_hash"]]
        assert (resident["birth_date"], resident["sex"]) == (person["birth_date"], person["sex"])
    for q in rows["qualification"]:  # what each insurer holds about its member matches the register (R-I2)
        resident = residents[people[q["person_id"]]["my_number_hash"]]
        assert resident["kana"] == q["kana"] and fold_name(resident["name"]) == fold_name(q["name"])  # tolerant match


def test_no_clear_my_number_is_stored_anywhere(rows) -> None:  # noqa: ANN001
    hashes = {"my_number_hash", "key_hash"}
    twelve = re.compile(r"(?<!\d)\d{12}(?!\d)")
    for table, records in rows.items():
        for record in records:
            for column, value in record.items():
                if column in hashes:
                    assert value is None or re.fullmatch(r"[0-9a-f]{64}", value), (table, column)
                else:
                    assert not twelve.search(str(value)), (table, column, value)


def test_families_share_their_numbers_with_distinct_branches(rows) -> None:  # noqa: ANN001
    groups = defaultdict(list)
    for q in rows["qualification"]:
        groups[(q["insurer_number"], q["symbol"], q["number"])].append(q)
    families = [g for g in groups.values() if len(g) > 1]
    assert len(families) > N / 20
    for group in groups.values():
        assert len({q["branch"] for q in group}) == len(group)
        for q in group:
            assert q["relation"] == ("self" if q["branch"] in ("00", "") else "family"), q
    heads = {(q["insurer_number"], q["symbol"], q["number"]): q for q in rows["qualification"] if q["relation"] == "self"}
    names = {q["person_id"]: q["name"] for q in rows["qualification"]}  # each insurer holds the member's name
    for q in rows["qualification"]:
        if q["relation"] == "family":
            assert q["insured_name"] == names[heads[(q["insurer_number"], q["symbol"], q["number"])]["person_id"]]


def test_kouki_members_are_75_on_their_start(rows) -> None:  # noqa: ANN001
    """R-P4."""
    kinds = {i["number"]: i["kind"] for i in rows["insurer"]}
    births = {p["id"]: p["birth_date"] for p in rows["person"]}
    kouki = [q for q in rows["qualification"] if kinds[q["insurer_number"]] == "kouki"]
    assert len(kouki) > N * 0.1
    for q in kouki:
        assert q["start"] >= kouki_start(births[q["person_id"]])
        assert q["kouki_ratio"] in (10, 20, 30)


def test_the_age_pyramid_and_insurance_mix_look_like_japan(rows) -> None:  # noqa: ANN001
    ages = [(TODAY - p["birth_date"]).days / 365.25 for p in rows["person"]]
    assert 0.26 < sum(a >= 65 for a in ages) / N < 0.34
    assert 0.10 < sum(a < 15 for a in ages) / N < 0.14
    assert 0.46 < sum(p["sex"] == 1 for p in rows["person"]) / N < 0.52
    kinds = {i["number"]: i["kind"] for i in rows["insurer"]}
    current = [kinds[q["insurer_number"]] for q in rows["qualification"] if q["end"] is None]
    assert 0.25 < current.count("kyokai") / len(current) < 0.40


def test_some_names_are_outside_jis_x_0208_and_kept_as_they_are(rows) -> None:  # noqa: ANN001
    """R-D4: stored as-is; the ● mask is for outputs. R-I2: the register may hold the common form."""
    hashes = {p["id"]: p["my_number_hash"] for p in rows["person"]}
    members = {q["person_id"]: q for q in rows["qualification"]}  # the name as the insurers hold it
    unusual = [q for q in members.values() if not is_representable(q["name"])]
    assert 0 < len(unusual) < N * 0.03
    residents = {r["my_number_hash"]: r["name"] for r in rows["resident"]}
    assert any(residents[hashes[q["person_id"]]] != q["name"] for q in unusual)
    assert all(re.fullmatch(r"[ァ-ヴー]+ [ァ-ヴー]+", q["kana"]) for q in rows["qualification"])


def test_recent_job_changes_include_unregistered_qualifications(rows) -> None:  # noqa: ANN001
    """R-I1 / F.1: the new insurer's qualification is not in the central system yet."""
    by_person = defaultdict(list)
    for q in rows["qualification"]:
        by_person[q["person_id"]].append(q)
    unregistered_changes = [
        q for qs in by_person.values() for q in qs
        if q["registered"] is None and any(o["loss_reason"] == "03" and o["end"] == q["start"] - dt.timedelta(days=1) for o in qs)
    ]
    assert unregistered_changes
    assert all(TODAY - q["start"] <= dt.timedelta(days=120) for q in unregistered_changes)


def test_cards_follow_r_b1_and_some_are_in_grace_or_lapsed(rows) -> None:  # noqa: ANN001
    serials = [c["serial"] for c in rows["card"]]
    assert len(set(serials)) == len(serials) and all(re.fullmatch(r"[0-9A-Z]{12,16}", s) for s in serials)
    live = [c for c in rows["card"] if c["revoked"] is None]
    assert 0.7 < len({c["person_id"] for c in live}) / N < 0.9
    statuses = [card_status(TODAY, card_expires=c["card_expires"], cert_expires=c["cert_expires"],
                            insurance_registered=c["insurance_registered"]) for c in live]
    assert any(s.in_grace for s in statuses)
    assert any(s.reason == "cert_expired" for s in statuses)
    assert any("cert_expiring" in s.alerts for s in statuses)
    assert 0.8 < sum(c["insurance_registered"] is not None for c in live) / len(live) < 0.95
    for c in rows["card"]:
        assert c["issued"] <= TODAY and (c["insurance_registered"] is None or c["issued"] <= c["insurance_registered"] <= TODAY)


def test_members_without_a_usable_card_hold_a_certificate(rows) -> None:  # noqa: ANN001
    """R-I3 (and R-B4): a valid qualification without a usable マイナ保険証 comes with a 資格確認書."""
    cards = defaultdict(list)
    for c in rows["card"]:
        if c["revoked"] is None:
            cards[c["person_id"]].append(c)
    certificates = {(d["person_id"], d["qualification_id"]) for d in rows["document"]
                    if d["kind"] == "eligibility_certificate" and d["issued"] <= TODAY <= d["expires"]}
    checked = 0
    for q in rows["qualification"]:
        settled = q["notified"] is not None and q["notified"] + dt.timedelta(days=10) < TODAY
        if not (settled and q["start"] <= TODAY and q["end"] is None):
            continue
        usable = any(card_status(TODAY, card_expires=c["card_expires"], cert_expires=c["cert_expires"],
                                 insurance_registered=c["insurance_registered"]).usable for c in cards[q["person_id"]])
        if not usable:
            checked += 1
            assert (q["person_id"], q["id"]) in certificates, q
    assert checked > N * 0.1


def test_certificates_carry_their_first_valid_day_and_lookups_find_them(rows) -> None:  # noqa: ANN001
    """document.valid_from (issue 9): every certificate and old card has one, never after its end;
    a 資格確認書 sent before the old card expired starts the day after; the lookup finds the
    certificate of every member who needs one (R-I3), so the terminal returns its dates."""
    from onshi.registry.lookup import CERTIFICATE_KINDS, DocumentRow, QualificationRow, held_document

    docs = defaultdict(list)
    for d in rows["document"]:
        if d["kind"] == "registration_notice":
            assert d["valid_from"] is None and d["expires"] is None
            continue
        assert d["valid_from"] is not None, d
        if d["expires"] is not None and d["expires"] < d["valid_from"]:  # ended before its first day (R-I7b: replaced before it began)
            assert any(e["document_id"] == d["id"] and e["valid_until"] == d["expires"] for e in rows["document_end"]), d
        if d["kind"] == "notice":
            continue
        docs[d["qualification_id"]].append(d)
    by_id = {d["id"]: d for d in rows["document"]}
    renewed = [(by_id[e["document_id"]], by_id[e["replaced_by"]]) for e in rows["document_end"] if e["replaced_by"] and "R-I7a" in e["rules"]]
    old_cards = [(card, new) for card, new in renewed if card["kind"] == "insurance_card"]
    assert len(old_cards) > N * 0.3  # R-I6a 3: the old 保険証 renewed by a certificate or an お知らせ (A6)
    on_time = [(card, new) for card, new in old_cards if new["issued"] <= card["expires"]]
    assert len(on_time) > len(old_cards) * 0.9  # mostly sent while the old card was valid…
    for card, new in on_time:  # …and then valid from the day after it (R-I6a 3, R-I7a)
        assert new["valid_from"] == card["expires"] + dt.timedelta(days=1), (card, new)
    found = 0
    for q in rows["qualification"]:
        held = [d for d in docs[q["id"]] if d["kind"] == "eligibility_certificate" and d["issued"] <= TODAY and d["valid_from"] <= TODAY <= d["expires"]]
        if not held or (q["end"] is not None and q["end"] < TODAY):
            continue
        row = QualificationRow(id=q["id"], insurer_number=q["insurer_number"], symbol=q["symbol"], number=q["number"], branch=q["branch"],
                               relation=q["relation"], start=q["start"], end=q["end"], registered=q["registered"],
                               documents=tuple(DocumentRow(d["id"], d["kind"], d["issued"], d["valid_from"], d["expires"])
                                               for d in docs[q["id"]] if d["kind"] in CERTIFICATE_KINDS))
        assert held_document(row, TODAY).kind == "eligibility_certificate"
        found += 1
    assert found > N * 0.1


def test_kouki_documents_follow_the_2025_and_2026_renewals(rows) -> None:  # noqa: ANN001
    """R-T3: a certificate to every 後期高齢者 for 2025-08-01..2026-07-31 and no お知らせ before
    2026-08; from 2026-08-01 a certificate to members 85+."""
    kinds = {i["number"]: i["kind"] for i in rows["insurer"]}
    births = {p["id"]: p["birth_date"] for p in rows["person"]}
    docs = defaultdict(list)
    for d in rows["document"]:
        docs[d["qualification_id"]].append(d)
    for q in rows["qualification"]:
        if kinds[q["insurer_number"]] != "kouki":
            continue
        held = {(d["kind"], d["valid_from"], d["expires"]) for d in docs[q["id"]]}
        if q["start"] <= dt.date(2025, 8, 1) and q["notified"] < dt.date(2025, 7, 1) and (q["end"] is None or q["end"] > dt.date(2026, 7, 31)):
            assert ("eligibility_certificate", dt.date(2025, 8, 1), dt.date(2026, 7, 31)) in held, q  # R-T3 (sent in July, 2025)
        assert not any(kind == "notice" and first < dt.date(2026, 8, 1) for kind, first, _ in held)  # R-I4c
        if q["start"] <= dt.date(2026, 8, 1) and q["end"] is None and births[q["person_id"]] <= dt.date(1941, 8, 1):
            assert ("eligibility_certificate", dt.date(2026, 8, 1), dt.date(2027, 7, 31)) in held, q  # R-I3g: 85 or more on 2026-08-01
    insurer_of = {q["id"]: q["insurer_number"] for q in rows["qualification"]}
    kouki_notices = [d for d in rows["document"] if d["kind"] == "notice" and kinds[insurer_of[d["qualification_id"]]] == "kouki"]
    assert kouki_notices and min(d["valid_from"] for d in kouki_notices) == dt.date(2026, 8, 1)  # the split (R-I3g, R-I4c)
    old_cards = [d for d in rows["document"] if d["kind"] == "insurance_card"]
    assert old_cards and all(d["expires"] <= dt.date(2025, 12, 1) for d in old_cards)  # A6


def test_sample_people_satisfy_the_contract(seeded, rows) -> None:  # noqa: ANN001
    engine, _ = seeded
    k = 25
    sample = sample_people(engine, k, seed=1, today=TODAY)
    assert len(sample) == k
    assert sample == sample_people(engine, k, seed=1, today=TODAY)
    ids = [s["person_id"] for s in sample]
    assert len(set(ids)) == k and max(ids) > N * 0.9 and min(ids) < N * 0.1  # spread, not the first k
    quals = {q["id"]: q for q in rows["qualification"]}
    cards = {c["serial"]: c for c in rows["card"]}
    people = {p["id"]: p for p in rows["person"]}
    facilities = {f["code"]: f for f in rows["facility"]}
    for s in sample:
        q, card, person = quals[s["qualification_id"]], cards[s["card_serial"]], people[s["person_id"]]
        assert q["person_id"] == card["person_id"] == person["id"]
        assert (s["insurer_number"], s["symbol"], s["number"], s["branch"]) == (q["insurer_number"], q["symbol"], q["number"], q["branch"])
        assert re.fullmatch(r"\d{6}|\d{8}", s["insurer_number"])
        assert s["birth_date"] == person["birth_date"].isoformat() and s["kana"] == q["kana"]
        assert q["registered"] is not None and q["registered"] <= TODAY and q["start"] <= TODAY and (q["end"] is None or q["end"] >= TODAY)
        assert card["revoked"] is None and card_status(
            TODAY, card_expires=card["card_expires"], cert_expires=card["cert_expires"], insurance_registered=card["insurance_registered"]
        ).usable
        assert facilities[s["facility_code"]]["online"]
    attach_keys(engine, sample, "bench")  # a key for each sample's facility and insurer, for benchmarks and the demo
    for s in sample:
        assert Registry(engine).authenticate(s["facility_key"]) == Principal("facility", s["facility_code"], "bench")
        assert Registry(engine).authenticate(s["insurer_key"]).subject == s["insurer_number"]


def test_seeding_a_non_empty_registry_is_refused(seeded) -> None:  # noqa: ANN001
    engine, _ = seeded
    with pytest.raises(RuntimeError, match="not empty"):
        seed_registry(engine, 10, today=TODAY, progress=False)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM person")).scalar() == N
