"""The issuance run over the registry (issue 12 item 4), on every backend: what it sends and
ends (ISSUANCE.md R-I3 … R-I7), that a rerun the same day sends nothing, that the SQL's
candidates are exactly the members the engine acts on (compared with deciding everyone over
a seeded history), that a kill -9 loses and duplicates nothing, one live run per scope, and
that everything downstream (lookups, the terminal XML, FHIR) carries what the run recorded."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from onshi.domain.errors import Conflict, InputError, NotFound
from onshi.issuance.run import read_run, run_issuance, start_run
from onshi.issuance.settings import write_settings
from onshi.registry import db, schema

from factories import FACILITY, KOUKI_TOKYO, KUMIAI, KYOKAI_TOKYO, key
from factories import issuance_outcome as _outcome
from factories import plain as _plain

D = dt.date.fromisoformat
CARD = {"issued": "2024-03-01", "registered_on": "2024-04-01"}  # 電子証明書 to the 5th birthday after: usable through 2026


def documents(engine, qualification_id: int | None = None) -> list[dict]:  # noqa: ANN001
    d = schema.document
    query = select(d).order_by(d.c.id)
    if qualification_id is not None:
        query = query.where(d.c.qualification_id == qualification_id)
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(query).mappings()]


def ends(engine) -> list[dict]:  # noqa: ANN001
    with engine.connect() as conn:
        return [dict(r) for r in conn.execute(select(schema.document_end).order_by(schema.document_end.c.id)).mappings()]


def settled(world) -> None:  # noqa: ANN001
    """Forget the events of the members made so far, as if they had joined long ago (their
    enrolment documents and registration notices long sent)."""
    with world.engine.begin() as conn:
        conn.execute(text("DELETE FROM member_event"))


def kouki_member(world, number: str, birth: str, **kw):  # noqa: ANN001, ANN201
    m = world.member(KOUKI_TOKYO, symbol="", number=number, branch="", birth_date=birth, start="2015-04-01", kouki_ratio=10, card=CARD, **kw)
    world.certificate(m, issued="2025-07-10", valid_from="2025-08-01", expires="2026-07-31")
    settled(world)
    return m


# ---------------------------------------------------------------- what a run sends and ends


def test_R_T3_the_annual_kouki_run_renews_by_the_split_and_a_rerun_sends_nothing(world, today):
    today("2026-07-01")
    old = kouki_member(world, "12345678", "1940-03-03")  # 86 on 2026-08-01
    young = kouki_member(world, "22345678", "1948-03-03")  # 78, usable card
    result = run_issuance(world.engine, D("2026-07-01"), KOUKI_TOKYO)
    assert result.status == "done" and result.scope == KOUKI_TOKYO
    new_old = [d for d in documents(world.engine, old["qualification_id"]) if d["run_id"] == result.id]
    new_young = [d for d in documents(world.engine, young["qualification_id"]) if d["run_id"] == result.id]
    assert [(d["kind"], d["issued"], d["valid_from"], d["expires"], d["form"]) for d in new_old] == [
        ("eligibility_certificate", D("2026-07-01"), D("2026-08-01"), D("2027-07-31"), "card")]
    assert new_old[0]["rules"].split() == ["R-I3g", "R-I6a", "R-I6c", "R-T3"]
    assert [(d["kind"], d["valid_from"], d["expires"]) for d in new_young] == [("notice", D("2026-08-01"), D("2027-07-31"))]
    assert "R-I4c" in new_young[0]["rules"].split()
    # R-I7a: the 2025-08 certificates end on their own end date, replaced by the new documents
    assert sorted((e["valid_until"], e["previous_expires"], e["rules"], e["replaced_by"]) for e in ends(world.engine)) == sorted(
        [(D("2026-07-31"), D("2026-07-31"), "R-I7a", new_old[0]["id"]), (D("2026-07-31"), D("2026-07-31"), "R-I7a", new_young[0]["id"])])
    s = result.tally.to_json()
    assert s["documents"] == {"eligibility_certificate": 1, "notice": 1} and s["rules"]["eligibility_certificate"]["R-I3g"] == 1
    assert s["triggers"] == {"renewal": 2} and s["ends"] == {"R-I7a": 2}
    again = run_issuance(world.engine, D("2026-07-01"), KOUKI_TOKYO)
    assert again.id != result.id and again.tally.documents == {} and again.tally.ends == {}
    assert len(documents(world.engine)) == 4


def test_R_I4a_R_I5_enrolment_sends_the_notice_and_the_registration_notice(world, today):
    today("2026-06-10")
    m = world.member(KYOKAI_TOKYO, start="2026-06-01", notified="2026-06-03", card=CARD)
    result = run_issuance(world.engine, D("2026-06-10"))
    docs = documents(world.engine, m["qualification_id"])
    assert [(d["kind"], d["valid_from"], d["expires"], d["rules"]) for d in docs] == [
        ("notice", D("2026-06-10"), None, "R-I4a R-I6a R-I6d"), ("registration_notice", None, None, "R-I5")]
    assert result.tally.triggers == {"enrolment": 1}
    with world.engine.connect() as conn:  # lookups do not take an お知らせ for a certificate (A4)
        assert conn.execute(text("SELECT COUNT(*) FROM document WHERE kind = 'eligibility_certificate'")).scalar() == 0


def test_R_I3a_standing_members_without_a_card_get_a_certificate_by_the_insurers_options(world, today):
    today("2026-06-10")
    write_settings(world.engine, KUMIAI, {"request_id": "s", "options": {"certificate_years": 2}, "certificate_form": "postcard"})
    m = world.member(KUMIAI, symbol="77", number="501", start="2015-04-01")  # no card
    world.certificate(m, kind="insurance_card", issued="2015-04-10", valid_from="2015-04-01", expires="2025-12-01", form=None)
    settled(world)
    run_issuance(world.engine, D("2026-06-10"), KUMIAI)
    (cert,) = [d for d in documents(world.engine, m["qualification_id"]) if d["run_id"] is not None]
    assert (cert["kind"], cert["form"], cert["valid_from"], cert["expires"]) == ("eligibility_certificate", "postcard", D("2026-06-10"), D("2028-05-31"))
    assert cert["rules"].split()[0] == "R-I3a"


def test_R_I7c_a_loss_ends_the_documents_without_a_new_one(world, today):
    today("2026-06-10")
    m = world.member(KYOKAI_TOKYO, start="2015-04-01")
    doc = world.certificate(m, issued="2025-11-14", valid_from="2025-12-02", expires="2030-11-30")
    settled(world)
    world.registry.operate(KYOKAI_TOKYO, "loss", dict(request_id="l", symbol="1234", number=m["number"], branch="00", end="2026-06-30", notified="2026-06-09"))
    result = run_issuance(world.engine, D("2026-06-10"))
    (only,) = documents(world.engine, m["qualification_id"])
    assert only["id"] == doc and only["expires"] == D("2026-06-30")
    (end,) = ends(world.engine)
    assert (end["document_id"], end["previous_expires"], end["valid_until"], end["rules"], end["replaced_by"]) == (doc, D("2030-11-30"), D("2026-06-30"), "R-I7c", None)
    assert result.tally.ends == {"R-I7c": 1} and result.tally.sent == 0


def test_R_I3f_a_refused_application_is_recorded_once_and_care_is_granted(world, today):
    today("2026-06-10")
    refused = world.member(KYOKAI_TOKYO, number="601", card=CARD)
    granted = world.member(KYOKAI_TOKYO, number="602", card=CARD)
    for m in (refused, granted):
        world.certificate(m, kind="notice", issued="2024-10-01", valid_from="2024-10-01", expires=None, form="a4")
    settled(world)
    for m, reason in ((refused, "other"), (granted, "care")):
        world.registry.operate(KYOKAI_TOKYO, "application", dict(request_id=f"a{m['number']}", symbol="1234", number=m["number"], branch="00",
                                                                   date="2026-06-05", reason=reason))
    first = run_issuance(world.engine, D("2026-06-10"))
    assert first.tally.applications == {"granted": 1, "refused": 1}
    with world.engine.connect() as conn:
        rows = {r.qualification_id: (r.decision, r.decided) for r in conn.execute(select(schema.certificate_application))}
    assert rows == {refused["qualification_id"]: ("refused", D("2026-06-10")), granted["qualification_id"]: ("granted", D("2026-06-10"))}
    (cert,) = [d for d in documents(world.engine, granted["qualification_id"]) if d["run_id"]]
    assert cert["kind"] == "eligibility_certificate" and cert["rules"].split()[0] == "R-I3f"
    assert not [d for d in documents(world.engine, refused["qualification_id"]) if d["run_id"]]
    today("2026-07-01")
    later = run_issuance(world.engine, D("2026-07-01"))
    assert later.tally.applications == {}  # the engine reports the refusal again; the registry already holds it


def test_R_I3c_a_cancelled_registration_brings_a_certificate(world, today):
    today("2026-06-10")
    m = world.member(KYOKAI_TOKYO, card=CARD)
    world.certificate(m, kind="notice", issued="2024-10-01", valid_from="2024-10-01", expires=None, form="a4")
    settled(world)
    world.registry.operate(KYOKAI_TOKYO, "card_cancellation", {"request_id": "k", "serial": m["serial"], "cancelled_on": "2026-06-01"})
    run_issuance(world.engine, D("2026-06-10"))
    (cert,) = [d for d in documents(world.engine, m["qualification_id"]) if d["run_id"]]
    assert cert["kind"] == "eligibility_certificate" and {"R-I3b", "R-I3c"} <= set(cert["rules"].split())


def test_an_insurers_run_decides_only_its_own_members(world, today):
    today("2026-06-10")
    mine = world.member(KUMIAI, symbol="77", number="501")
    other = world.member(KYOKAI_TOKYO, number="502")
    run_issuance(world.engine, D("2026-06-10"), KUMIAI)
    assert [d["kind"] for d in documents(world.engine, mine["qualification_id"])] == ["eligibility_certificate"]  # no card: no R-I5 notice
    assert documents(world.engine, other["qualification_id"]) == []
    with pytest.raises(NotFound):
        run_issuance(world.engine, D("2026-06-10"), "99999999")


def test_runs_go_forward_and_one_runs_at_a_time_per_scope(world, today):
    today("2026-06-10")
    world.member(KYOKAI_TOKYO)
    run_issuance(world.engine, D("2026-06-10"), KYOKAI_TOKYO)
    with pytest.raises(InputError) as exc:
        run_issuance(world.engine, D("2026-06-01"), KYOKAI_TOKYO)
    assert exc.value.errors[0].field == "date"
    run_id, resumed, _ = start_run(world.engine, D("2026-06-11"), KYOKAI_TOKYO)
    assert not resumed
    with pytest.raises(Conflict):  # its owner (this process) is alive
        start_run(world.engine, D("2026-06-11"), KYOKAI_TOKYO)
    run_issuance(world.engine, D("2026-06-11"), KUMIAI)  # another scope runs meanwhile
    with world.engine.begin() as conn:  # its process died (kill -9): the next start of the same day resumes it
        conn.execute(update(schema.issuance_run).where(schema.issuance_run.c.id == run_id).values(owner=f"{os.uname().nodename}:999999999"))
    assert start_run(world.engine, D("2026-06-11"), KYOKAI_TOKYO) == (run_id, True, False)
    with world.engine.begin() as conn:
        conn.execute(update(schema.issuance_run).where(schema.issuance_run.c.id == run_id).values(owner="elsewhere:1", heartbeat_at=dt.datetime(2026, 6, 1, tzinfo=dt.timezone.utc)))
    newer, resumed, _ = start_run(world.engine, D("2026-06-12"), KYOKAI_TOKYO)  # a silent run elsewhere is given up for a later day
    assert not resumed and newer != run_id
    with world.engine.connect() as conn:
        assert read_run(conn, run_id).status == "failed"


# ---------------------------------------------------------------- the candidates are exact


def _seeded_copy(tmp_path: Path, people: int, today: str) -> tuple[Path, Path]:
    from onshi.registry.seed import seed_registry

    a = tmp_path / "a.sqlite3"
    engine = db.make_engine(f"sqlite:///{a}")
    db.migrate(engine)
    seed_registry(engine, people, seed=3, today=D(today), progress=False, history=False)
    engine.dispose()
    b = tmp_path / "b.sqlite3"
    shutil.copy(a, b)
    return a, b


def _operations_between_runs(engine, day: dt.date) -> None:  # noqa: ANN001
    """DV flags set and lifted (R-I3e), an insurer starting to send to all (R-I3h), registrations
    cancelled (R-I3c), lost cards and their new ones (R-I3f, R-I7d), new applications."""
    from onshi.registry.service import Registry

    registry = Registry(engine)
    with engine.connect() as conn:
        open_members = conn.execute(text(
            "SELECT q.id, q.insurer_number, q.symbol, q.number, q.branch, c.serial, c.insurance_registered FROM qualification q "
            "LEFT JOIN card c ON c.person_id = q.person_id AND c.revoked IS NULL "
            "WHERE q.end IS NULL AND q.start <= :day AND q.notified <= :day ORDER BY q.id"), {"day": day.isoformat()}).all()

    def numbers(m) -> dict:  # noqa: ANN001
        return {"symbol": m.symbol, "number": m.number, "branch": m.branch}

    with_card = [m for m in open_members if m.serial and m.insurance_registered and str(m.insurance_registered) <= day.isoformat()]
    if day == D("2025-09-15"):
        for m in open_members[::300]:
            registry.operate(m.insurer_number, "change", numbers(m) | {"request_id": f"dv-{m.id}", "notified": day, "dv_flag": True})
    if day == D("2026-02-01"):
        for m in open_members[::300][:2]:
            registry.operate(m.insurer_number, "change", numbers(m) | {"request_id": f"undv-{m.id}", "notified": day, "dv_flag": False})
        kokuho = next(m.insurer_number for m in open_members if len(m.insurer_number) == 6)
        write_settings(engine, kokuho, {"request_id": "to-all", "options": {"certificate_to_all": True}})
    if day == D("2026-03-01"):
        for m in with_card[5::250]:
            registry.operate(m.insurer_number, "card_cancellation", {"request_id": f"cancel-{m.id}", "serial": m.serial})
    if day == D("2026-04-15"):
        for m in with_card[7::200]:
            registry.operate(m.insurer_number, "application", numbers(m) | {"request_id": f"lost-{m.id}", "date": day, "reason": "card_lost"})
        for m in open_members[11::400]:
            registry.operate(m.insurer_number, "application", numbers(m) | {"request_id": f"other-{m.id}", "date": day, "reason": "other"})
    if day == D("2026-06-01"):
        with engine.connect() as conn:
            lost = conn.execute(text("SELECT a.qualification_id, q.insurer_number, r.my_number_hash, c.serial FROM certificate_application a "
                                     "JOIN qualification q ON q.id = a.qualification_id JOIN person r ON r.id = q.person_id "
                                     "JOIN card c ON c.person_id = q.person_id AND c.revoked IS NULL "
                                     "WHERE a.reason = 'card_lost' AND a.date = '2026-04-15' ORDER BY a.id")).all()
        for i, m in enumerate(lost):  # the new card (its link needs the 個人番号, which only the hash stands for: a direct row)
            with engine.begin() as conn:
                conn.execute(text("UPDATE card SET revoked = :day WHERE serial = :s"), {"day": day, "s": m.serial})
                conn.execute(text("INSERT INTO card (serial, person_id, issued, card_expires, cert_expires, insurance_registered) "
                                  "SELECT :new, person_id, :day, '2036-05-31', '2031-05-31', :day FROM card WHERE serial = :s"),
                             {"new": f"NEWCARD{i:05d}", "day": day, "s": m.serial})


def test_the_sql_candidates_are_every_member_the_engine_acts_on(tmp_path, monkeypatch):
    """Over two years of runs on a seeded registry (and what insurers did between them), deciding
    only the SQL's candidates records exactly what deciding every member records (R-I3 … R-I7)."""
    from onshi.issuance.history import run_days

    monkeypatch.setenv("ONSHI_TODAY", "2026-11-23")
    a, b = _seeded_copy(tmp_path, 1500, "2026-11-23")
    ea, eb = db.make_engine(f"sqlite:///{a}"), db.make_engine(f"sqlite:///{b}")
    decided = {"candidates": 0, "everyone": 0}
    for day in run_days(D("2026-11-23")):
        monkeypatch.setenv("ONSHI_TODAY", day.isoformat())
        for engine in (ea, eb):  # what insurers do between runs, alike on both: the incremental selection must see it
            _operations_between_runs(engine, day)
        decided["candidates"] += run_issuance(ea, day, origin="seed").candidates
        decided["everyone"] += run_issuance(eb, day, origin="seed", everyone=True).candidates
    got, want = _outcome(ea), _outcome(eb)
    assert len(want["sent"]) > 1000 and want["ended"] and want["applications"]
    with ea.connect() as conn:  # the operations between the runs happened, and the rules they bring were used
        happened = conn.execute(text(
            "SELECT (SELECT COUNT(*) FROM member_event WHERE kind = 'dv_flag'), (SELECT COUNT(*) FROM card WHERE registration_cancelled IS NOT NULL), "
            "(SELECT COUNT(*) FROM certificate_application WHERE reason = 'card_lost' AND decision = 'ended'), "
            "(SELECT COUNT(*) FROM document_end WHERE rules LIKE '%R-I7d%'), (SELECT COUNT(*) FROM document WHERE rules LIKE '%R-I3h%'), "
            "(SELECT COUNT(*) FROM document WHERE rules LIKE '%R-I3e%'), (SELECT COUNT(*) FROM document WHERE rules LIKE '%R-I3c%')")).one()
    assert all(happened), happened
    for part in want:
        assert got[part] == want[part], part
    assert decided["candidates"] < decided["everyone"] / 4  # and the point of it: a fraction is decided
    ea.dispose()
    eb.dispose()


def test_the_sql_candidates_on_postgresql(engine, monkeypatch, tmp_path):
    """The same selection on each backend: the candidates of a few heavy run days decided on
    this backend record what deciding everyone records on SQLite."""
    from onshi.registry.seed import seed_registry

    if engine.dialect.name != "postgresql":
        pytest.skip("the SQLite comparison is the test above")
    monkeypatch.setenv("ONSHI_TODAY", "2026-08-02")
    seed_registry(engine, 800, seed=5, today=D("2026-08-02"), progress=False, history=False)
    ref = db.make_engine(f"sqlite:///{tmp_path / 'ref.sqlite3'}")
    db.migrate(ref)
    seed_registry(ref, 800, seed=5, today=D("2026-08-02"), progress=False, history=False)
    for day in (D("2024-12-02"), D("2025-07-01"), D("2025-12-01"), D("2026-07-01"), D("2026-08-01")):
        run_issuance(engine, day, origin="seed")
        run_issuance(ref, day, origin="seed", everyone=True)
    assert _outcome(engine) == _outcome(ref)
    ref.dispose()


# ---------------------------------------------------------------- kill -9


def _database_url(engine) -> str:  # noqa: ANN001
    return engine.url.render_as_string(hide_password=False)


def test_a_killed_run_resumes_without_a_duplicate_or_a_lost_document(engine, tmp_path, monkeypatch):
    """kill -9 of `onshi issuance run` after some batches were committed, then the same command
    again: what it records is exactly what an uninterrupted run records."""
    from onshi.registry.seed import seed_registry

    monkeypatch.setenv("ONSHI_TODAY", "2026-07-01")
    for target in (engine, None):
        if target is None:
            ref_path = tmp_path / "ref.sqlite3"
            target = db.make_engine(f"sqlite:///{ref_path}")
            db.migrate(target)
        seed_registry(target, 2500, seed=9, today=D("2026-06-30"), progress=False, history=False)
    ref = target
    run_issuance(ref, D("2026-07-01"), origin="cli")

    env = os.environ | {"ONSHI_DATABASE_URL": _database_url(engine), "ONSHI_TODAY": "2026-07-01", "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-c", "from onshi.interfaces.cli import main; main()", "issuance", "run", "--date", "2026-07-01", "--batch", "40"]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    committed = 0
    while time.monotonic() < deadline and proc.poll() is None:
        with engine.connect() as conn:
            committed = conn.execute(text("SELECT COUNT(*) FROM document WHERE run_id IS NOT NULL")).scalar()
        if committed >= 150:
            break
        time.sleep(0.05)
    assert proc.poll() is None, f"the run finished before it could be killed: {proc.stderr.read().decode()[-2000:]}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with engine.connect() as conn:
        (status,) = conn.execute(text("SELECT status FROM issuance_run")).one()
        partial = conn.execute(text("SELECT COUNT(*) FROM document WHERE run_id IS NOT NULL")).scalar()
    assert status == "running" and 150 <= partial < len(_outcome(ref)["sent"])
    again = subprocess.run(command + ["--json", str(tmp_path / "again.json")], env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr[-3000:]
    import json

    result = json.loads((tmp_path / "again.json").read_text())
    assert result["resumed"] and result["status"] == "done"
    got, want = _outcome(engine), _outcome(ref)
    assert got == want
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM issuance_run")).scalar() == 1
        dup = conn.execute(text("SELECT COUNT(*) FROM (SELECT qualification_id, kind FROM document WHERE run_id IS NOT NULL "
                                "GROUP BY qualification_id, kind HAVING COUNT(*) > 1) x")).scalar()
    assert dup == 0
    with ref.connect() as conn:
        want_summary = read_run(conn, 1).tally.documents
    assert result["summary"]["documents"] == dict(want_summary)  # the summary counts each document once
    ref.dispose()


# ---------------------------------------------------------------- downstream


def test_R_A3_the_run_certificate_is_what_lookups_xml_and_fhir_return(world, today):
    """run → lookup → terminal XML dates (InsuredCertificateIssuanceDate, InsuredCardValidDate,
    InsuredCardExpirationDate), FHIR Coverage.period, and the desk's R-A3 check on them."""
    from fastapi.testclient import TestClient

    from onshi.frontdesk.live import record_visit
    from onshi.interfaces.http.app import create_app
    from onshi.interfaces.oqs_xml import codec
    from onshi.interfaces.oqs_xml.codec import SearchInfo

    today("2026-07-01")
    m = kouki_member(world, "12345678", "1938-02-01")
    run_issuance(world.engine, D("2026-07-01"), KOUKI_TOKYO)
    today("2026-08-03")
    info = SearchInfo(insurer_number=KOUKI_TOKYO, symbol="", number="12345678", branch="", birth_date="19380201")
    with TestClient(create_app(world.registry)) as client:
        body = codec.inquiry_request(FACILITY, [info], encoding="utf-8")
        r = client.post("/oqs/v1/OQSsiquc01req", content=body, headers={"X-API-Key": key("facility", FACILITY), "content-type": "application/xml"})
        assert r.status_code == 200, r.text
        (entry,) = codec.read_result(r.content)["body"]["ResultList"]["ResultOfQualificationConfirmation"]
        assert (entry["InsuredCertificateIssuanceDate"], entry["InsuredCardValidDate"], entry["InsuredCardExpirationDate"]) == ("20260701", "20260801", "20270731")
        numbers = {"insurer_number": KOUKI_TOKYO, "number": "12345678", "birth_date": "1938-02-01"}
        looked = client.post("/api/v1/lookups/numbers", json=numbers, headers={"X-API-Key": key("facility", FACILITY)}).json()
        assert looked["qualification"]["certificate_valid_from"] == "2026-08-01" and looked["qualification"]["certificate_valid_to"] == "2027-07-31"
        coverage = client.get(f"/fhir/r4/Coverage/{m['qualification_id']}", headers={"X-API-Key": key("facility", FACILITY)})
        assert coverage.status_code == 200 and coverage.json()["period"] == {"start": "2026-08-01", "end": "2027-07-31"}
    # the desk: a visit on the certificate the run sent (R-A3a: the registry's dates, as the terminal's)
    visit = record_visit(world.registry, FACILITY, {
        "patient_ref": "K-1", "presented": ["eligibility_certificate"], "birth_date": "1938-02-01",
        "documents": [{"kind": "eligibility_certificate", "insurer_number": KOUKI_TOKYO, "number": "12345678", "symbol": "", "branch": "",
                       "issued": "2026-07-01", "valid_from": "2026-08-01", "expires": "2027-07-31"}]}, channel="api")
    assert "R-A3a" in visit["rules"] and visit["certificate"] == {
        "source": "registry", "kind": "eligibility_certificate", "issued": "2026-07-01", "valid_from": "2026-08-01", "valid_to": "2027-07-31"}


def test_R_A3b_a_run_certificate_of_a_member_not_yet_in_the_central_system(world, today):
    """A new member the insurer knows (notified) but has not registered centrally yet (R-I1, F.1):
    the run sends the certificate (R-I4a / R-I3a), the lookup finds nothing, and the desk relies
    on the dates printed on it (R-A3b) — those the run recorded."""
    from onshi.frontdesk.live import record_visit

    today("2026-06-10")
    m = world.member(KUMIAI, symbol="77", number="4321", start="2026-06-01", notified="2026-06-03")  # no My Number card: R-I3a
    with world.engine.begin() as conn:
        conn.execute(text("UPDATE qualification SET registered = NULL WHERE id = :q"), {"q": m["qualification_id"]})
    run_issuance(world.engine, D("2026-06-10"), KUMIAI)
    (cert,) = [d for d in documents(world.engine, m["qualification_id"]) if d["kind"] == "eligibility_certificate"]
    assert (cert["valid_from"], cert["expires"]) == (D("2026-06-10"), D("2031-05-31"))
    today("2026-06-20")
    visit = record_visit(world.registry, FACILITY, {
        "patient_ref": "K-2", "presented": ["eligibility_certificate"], "birth_date": "1980-06-15",
        "documents": [{"kind": "eligibility_certificate", "insurer_number": KUMIAI, "symbol": "77", "number": "4321", "branch": "00",
                       "issued": cert["issued"].isoformat(), "valid_from": cert["valid_from"].isoformat(), "expires": cert["expires"].isoformat()}]},
        channel="api")
    assert "R-A3b" in visit["rules"] and visit["insured"] and visit["certificate"] == {
        "source": "presented", "kind": "eligibility_certificate", "issued": "2026-06-10", "valid_from": "2026-06-10", "valid_to": "2031-05-31"}
