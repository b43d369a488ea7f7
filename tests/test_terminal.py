"""The folder terminal end to end: req/ in, res/ out, face/ for card reads; half-written,
broken and foreign files; bulk requests across a restart."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from onshi.interfaces.cli import app as cli_app
from onshi.interfaces.oqs_xml import codec, codes
from onshi.interfaces.oqs_xml.codec import SearchInfo
from onshi.interfaces.oqs_xml.service import OqsService
from onshi.interfaces.oqs_xml.terminal import Terminal
from onshi.registry.service import Registry

from factories import FACILITY, KOKUHO

CARD = {"issued": "2022-03-01"}


def search(m: dict, **over) -> SearchInfo:
    values = dict(insurer_number=m["insurer"], symbol=m["symbol"], number=m["number"], branch=m["branch"], birth_date=m["birth_date"].replace("-", ""))
    return SearchInfo(**(values | over))


def drop(folder: Path, name: str, data: bytes) -> None:
    """As a well-behaved client does: write elsewhere, then rename into req/."""
    tmp = folder.parent / f"{name}.part"
    tmp.write_bytes(data)
    os.replace(tmp, folder / name)


def wait_for(path: Path, timeout: float = 10) -> bytes:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            return path.read_bytes()
        time.sleep(0.02)
    raise AssertionError(f"{path} did not appear")


def age(path: Path, seconds: float = 5) -> None:
    t = time.time() - seconds
    os.utime(path, (t, t))


def test_terminal_answers_request_files_while_running(world, tmp_path):
    """End to end: a request file in req/ is answered in res/ under the matching name, and removed."""
    m = world.member(card=CARD)
    terminal = Terminal(OqsService(world.registry), tmp_path, FACILITY, settle=0.05, interval=0.02)
    stop = threading.Event()
    thread = threading.Thread(target=terminal.run, args=(stop,))
    thread.start()
    try:
        drop(terminal.req, "OQSsiquc01req_0000000000001.xml", codec.inquiry_request(FACILITY, [search(m)], encoding="shift_jis"))
        res = codec.read_result(wait_for(terminal.res / "OQSsiquc01res_0000000000001.xml"))
        assert res["encoding"] == "shift_jis" and res["body"]["QualificationValidity"] == "1"
        # bulk: two round trips, the processing in the terminal's worker
        drop(terminal.req, "OQSmuquc01req_bulk.xml", codec.inquiry_request(FACILITY, [search(m, arbitrary_identifier=str(i)) for i in range(5)]))
        reception = codec.read_result(wait_for(terminal.res / "OQSmuquc01res_bulk.xml"))["header"]["ReceptionNumber"]
        for attempt in range(50):
            name = f"OQSmuquc02req_{attempt}.xml"
            drop(terminal.req, name, codec.reception_request(FACILITY, reception))
            res = codec.read_result(wait_for(terminal.res / name.replace("req", "res")))
            if res["header"]["SegmentOfResult"] == "1":
                break
            time.sleep(0.05)
        assert res["header"]["NumberOfNormalProcessing"] == "5" and len(res["body"]["BulkConfirmUnit"]) == 5
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
    assert not list(terminal.req.glob("*.xml"))  # answered requests are gone
    assert not list(terminal.res.glob(".*"))  # no temporary file left behind


def test_half_written_file_waits_and_broken_file_is_answered_once_unchanged(world, tmp_path):
    m = world.member()
    terminal = Terminal(OqsService(world.registry), tmp_path, FACILITY, settle=0.05)
    full = codec.inquiry_request(FACILITY, [search(m)])
    path = terminal.req / "OQSsiquc01req_7.xml"
    path.write_bytes(full[: len(full) // 2])  # a client that writes in place, caught midway
    assert terminal.process_file(path) == "waiting"  # modified just now
    age(path)
    assert terminal.process_file(path) == "waiting"  # does not parse: one more chance
    path.write_bytes(full)  # the client finished writing
    age(path, 3)
    assert terminal.process_file(path) == "answered"
    assert codec.read_result((terminal.res / "OQSsiquc01res_7.xml").read_bytes())["body"]["QualificationValidity"] == "1"
    broken = terminal.req / "OQSsiquc01req_8.xml"
    broken.write_bytes(b"<XmlMsg><MessageHeader>")
    age(broken)
    assert terminal.process_file(broken) == "waiting"
    assert terminal.process_file(broken) == "answered"  # unchanged and still broken: an error result
    assert codec.read_result((terminal.res / "OQSsiquc01res_8.xml").read_bytes())["header"]["ErrorCode"] == codes.ERROR_MALFORMED


def test_foreign_empty_and_huge_files(world, tmp_path):
    terminal = Terminal(OqsService(world.registry), tmp_path, FACILITY, settle=0)
    (terminal.req / "readme.txt").write_text("not a request")
    (terminal.req / "OQSsiquc01req_1.xml.tmp").write_text("a client's temporary file")
    (terminal.req / "OQSsiquc01req_empty.xml").write_bytes(b"")
    with open(terminal.req / "OQSsiquc01req_huge.xml", "wb") as f:
        f.truncate(codes.MAX_FILE_BYTES + 10)
    (terminal.req / "YZKsiquc01req_1.xml").write_bytes(codec.inquiry_request(FACILITY, [SearchInfo()]))
    for p in terminal.req.iterdir():
        age(p)
    assert terminal.run_once() == 3
    assert codec.read_result((terminal.res / "OQSsiquc01res_empty.xml").read_bytes())["header"]["ErrorCode"] == codes.ERROR_MALFORMED
    assert codec.read_result((terminal.res / "OQSsiquc01res_huge.xml").read_bytes())["header"]["ErrorCode"] == codes.ERROR_TOO_LARGE
    assert codec.read_result((terminal.res / "YZKsiquc01res_1.xml").read_bytes())["header"]["ErrorCode"] == codes.ERROR_UNSUPPORTED
    assert sorted(p.name for p in terminal.req.iterdir()) == ["OQSsiquc01req_1.xml.tmp", "readme.txt"]  # left alone


def test_bulk_resumes_after_a_restart(world, tmp_path, engine):
    m = world.member(KOKUHO, symbol="", branch="", number="3131", birth_date="1970-07-07")
    first = Terminal(OqsService(world.registry), tmp_path, FACILITY, settle=0)
    path = first.req / "OQSmuquc01req_a.xml"
    path.write_bytes(codec.inquiry_request(FACILITY, [search(m, symbol=None, branch=None)] * 3))
    age(path)
    assert first.process_file(path) == "answered"  # stored and acknowledged, then the terminal "stops"
    reception = codec.read_result((first.res / "OQSmuquc01res_a.xml").read_bytes())["header"]["ReceptionNumber"]
    second = Terminal(OqsService(Registry(engine)), tmp_path, FACILITY, settle=0)
    ask = second.req / "OQSmuquc02req_a.xml"
    ask.write_bytes(codec.reception_request(FACILITY, reception))
    age(ask)
    second.run_once()
    res = codec.read_result((second.res / "OQSmuquc02res_a.xml").read_bytes())
    assert res["header"]["SegmentOfResult"] in ("1", "2")
    if res["header"]["SegmentOfResult"] == "2":  # answered before the bulk: ask again
        ask.write_bytes(codec.reception_request(FACILITY, reception))
        age(ask)
        second.run_once()
        res = codec.read_result((second.res / "OQSmuquc02res_a.xml").read_bytes())
    assert res["header"]["NumberOfNormalProcessing"] == "3"


def test_read_card_writes_the_face_file(world, tmp_path):
    m = world.member(card=CARD)
    terminal = Terminal(OqsService(world.registry), tmp_path, FACILITY)
    result, path = terminal.read_card(m["serial"], identity="pin")
    assert path.parent == terminal.face and path.name.startswith("OQSsiquc01res_face_") and path.suffix == ".xml"
    res = codec.read_result(path.read_bytes())
    assert res["header"]["ReferenceClassification"] == "1" and res["body"]["QualificationValidity"] == result.validity.code == "1"


def test_cli_once_and_read_card(world, tmp_path, engine, monkeypatch):
    m = world.member(card=CARD)
    url = engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("ONSHI_DATABASE_URL", url)
    (tmp_path / "req").mkdir()
    req = tmp_path / "req" / "OQSsiquc01req_cli.xml"
    req.write_bytes(codec.inquiry_request(FACILITY, [search(m)]))
    age(req)
    runner = CliRunner()
    out = runner.invoke(cli_app, ["terminal", "--dir", str(tmp_path), "--facility", FACILITY, "--once"])
    assert out.exit_code == 0, out.output
    assert codec.read_result((tmp_path / "res" / "OQSsiquc01res_cli.xml").read_bytes())["body"]["QualificationValidity"] == "1"
    out = runner.invoke(cli_app, ["terminal", "read-card", m["serial"], "--identity", "face", "--dir", str(tmp_path), "--facility", FACILITY])
    assert out.exit_code == 0, out.output
    assert len(list((tmp_path / "face").glob("OQSsiquc01res_face_*.xml"))) == 1
    assert runner.invoke(cli_app, ["terminal", "--dir", str(tmp_path), "--facility", "1399999999", "--once"]).exit_code == 2
