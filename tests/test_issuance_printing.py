"""Printed documents (issue 12 item 5): every form as PDF with the IPA fonts embedded, read
back with poppler (pdftotext, pdffonts, pdfinfo) and rendered to PNG with pdftoppm; a few
pages are kept in artifacts/issuance/ to look at. Without the fonts or poppler these tests
skip (`./run test` installs fonts-ipafont-* and poppler-utils), except with CI=true."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from onshi.issuance.models import CERTIFICATE, NOTICE, REGISTRATION_NOTICE
from onshi.issuance.printing import FontUnavailable, PrintDocument, load_fonts, render_pdf, render_per_member, write_pdfs
from onshi.issuance.printing.samples import KOKUHO, KUMIAI, KYOKAI, member, sample_documents

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "issuance"
D = dt.date.fromisoformat


def _need(tool: str) -> None:
    if shutil.which(tool) is None:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI=true: {tool} (poppler-utils) is needed", pytrace=False)
        pytest.skip(f"{tool} is missing (apt-get install poppler-utils)")


@pytest.fixture(scope="module")
def fonts():  # noqa: ANN201
    try:
        return load_fonts()
    except FontUnavailable as exc:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"CI=true: {exc}", pytrace=False)
        pytest.skip(str(exc))


@pytest.fixture(scope="module")
def sample(fonts, tmp_path_factory):  # noqa: ANN001, ANN201
    docs = sample_documents(D("2026-07-08"))
    result = render_pdf(docs)
    path = tmp_path_factory.mktemp("print") / "sample.pdf"
    path.write_bytes(result.pdf)
    return docs, result, path


def _pages(path: Path) -> list[str]:
    _need("pdftotext")
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], check=True, capture_output=True, text=True).stdout
    return text.split("\f")[:-1]


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_every_document_is_one_page_in_postal_code_order(sample):
    docs, result, path = sample
    _need("pdfinfo")
    info = subprocess.run(["pdfinfo", "-f", "1", "-l", "99", str(path)], check=True, capture_output=True, text=True).stdout
    assert f"Pages:           {len(docs)}" in info and result.pages == len(docs) and result.held_back == []
    by_id = {d.id: d for d in docs}
    codes = [(by_id[i].member.mailing_address or by_id[i].member.address).sort_key for i in result.order]
    assert codes == sorted(codes)
    sizes = re.findall(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", info)
    postcard = result.order.index("D-0002")
    assert [round(float(v) / 72 * 25.4) for v in sizes[postcard]] == [100, 148]  # はがき
    assert all([round(float(v) / 72 * 25.4) for v in s] == [210, 297] for i, s in enumerate(sizes) if i != postcard)  # A4


def test_the_japanese_fonts_are_embedded(sample):
    _need("pdffonts")
    _, _, path = sample
    fonts = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout
    rows = [line.split() for line in fonts.splitlines()[2:]]
    ipa = [r for r in rows if "IPA" in r[0]]
    assert ipa and all(r[-5] == "yes" for r in ipa)  # emb
    assert {r[0].split("+")[1] for r in ipa} == {"IPAGothic", "IPAMincho"}


def test_the_card_certificate_carries_every_item_of_the_seed_002_sample(sample):
    """有効期限, 発効期日, 記号, 番号(枝番), 氏名, 性別, 生年月日, 負担割合 (後期), 適用開始年月日,
    交付年月日, 住所, 保険者番号, 交付者名 — dates in 和暦; names as stored (髙, 﨑: no ●)."""
    _, result, path = sample
    page = _flat(_pages(path)[result.order.index("D-0001")])
    for item in ("後期高齢者医療資格確認書", "有効期限令和9年7月31日", "発効期日令和8年8月1日", "記号", "番号12345678", "氏名髙橋﨑子", "性別女",
                 "生年月日昭和13年3月3日", "負担割合1割", "適用開始年月日平成25年3月3日", "交付年月日令和8年7月8日",
                 "住所東京都新宿区西新宿2丁目8番1号都庁前ハイツ101", "保険者番号39131156", "交付者名東京都後期高齢者医療広域連合長", "備考"):
        assert item in page, item
    assert "●" not in page and "世帯主氏名" not in page  # 世帯主氏名 is for 国保


def test_the_kokuho_a4_certificate_has_the_householder_and_no_copay_before_70(sample):
    _, result, path = sample
    page = _flat(_pages(path)[result.order.index("D-0003")])
    for item in ("国民健康保険資格確認書", "世帯主氏名渡邊一郎", "記号千01", "番号100234（枝番）01", "保険者番号138107", "交付者名千代田区長", "有効期限令和8年9月30日"):
        assert item in page, item
    assert "負担割合" not in page  # 69 on the first day: not printed (R-P3, seed 002 様式)


def test_the_postcard_has_the_postal_code_address_and_the_certificate(sample):
    _, result, path = sample
    page = _flat(_pages(path)[result.order.index("D-0002")])
    for item in ("2310023", "神奈川県横浜市中区山下町1番地", "佐藤花子様", "健康保険資格確認書", "番号341（枝番）02", "全国健康保険協会東京支部長"):
        assert item in page, item


def test_the_notice_follows_the_sample_with_its_cut_off_strip(sample):
    _, result, path = sample
    over70 = _flat(_pages(path)[result.order.index("D-0005")])
    for item in ("資格情報のお知らせ", "なお、このお知らせのみでは受診できません。", "フリガナスズキジロウ", "負担割合（70歳以上のもの記載）2割",
                 "有効期限令和9年7月31日", "発効期日令和8年8月1日", "下部を切り取ってご利用いただくこともできます", "令和8年7月8日発行",
                 "みなと電機健康保険組合理事長", "受診の際にはマイナ保険証があわせて必要です", "https://myna.go.jp/"):
        assert item in over70, item
    assert over70.count("有効期限令和9年7月31日") == 2  # the table and the strip (※ 下部の切り取り箇所も同様)
    young = _flat(_pages(path)[result.order.index("D-0006")])
    assert "有効期限" not in young and "発効期日" not in young and "受診の際にはマイナ保険証があわせて必要です" in young


def test_the_registration_notice(sample):
    _, result, path = sample
    page = _flat(_pages(path)[result.order.index("D-0007")])
    assert "資格情報の登録完了のお知らせ" in page and "令和8年7月5日にオンライン資格確認等システムへ登録しました" in page


def test_a_character_the_font_lacks_is_a_warning_and_a_geta_never_an_empty_box(sample):
    docs, result, path = sample
    missing = [w for w in result.warnings if w.character == "𠮷"]
    assert {w.document_id for w in missing} == {"D-0006", "D-0007"} and all(w.field == "name" for w in missing)
    assert "U+20BB7" in str(missing[0])
    text = "".join(_pages(path))
    assert "𠮷" not in text and "〓田 太郎" in text
    ivs = [w for w in result.warnings if w.document_id == "D-0004"]
    assert ivs and "異体字セレクタ" in ivs[0].message
    assert "葛西 文子" in text


def test_a_dv_member_gets_the_letter_at_the_address_they_gave_never_the_protected_one(fonts):
    _need("pdftotext")
    docs = sample_documents()
    dv = next(d for d in docs if d.member.dv_flag)
    protected = dv.member.address.text
    result = render_pdf([dv])
    text = subprocess.run(["pdftotext", "-", "-"], input=result.pdf, check=True, capture_output=True).stdout.decode()
    assert "福岡県福岡市中央区天神1丁目8番1号" in _flat(text) and "810-0001" in text
    assert protected not in text and "999-9999" not in text
    without = replace(dv, member=replace(dv.member, mailing_address=None))
    held = render_pdf([without, docs[0]])
    assert held.held_back == [dv.id] and held.pages == 1 and "DV" in str(held.warnings[0])


def test_a_whole_run_and_per_member_pdfs(fonts):
    docs = sample_documents()
    per = render_per_member(docs)
    assert set(per) == {d.member.member_id for d in docs}
    assert per["M-KUMIAI-2"].pages == 2 and per["M-KUMIAI-2"].order == ["D-0006", "D-0007"]  # お知らせ, then the registration notice
    nothing = render_pdf([])
    assert nothing.pages == 0 and nothing.pdf.startswith(b"%PDF")


def test_a_large_run_in_numbered_files_keeps_postal_order(fonts, tmp_path):
    docs = sample_documents()
    files = write_pdfs(docs, tmp_path / "out", per_file=3)
    assert [p.name for p, _ in files] == ["issuance-0001.pdf", "issuance-0002.pdf", "issuance-0003.pdf"]
    assert [r.pages for _, r in files] == [3, 3, 2] and all(p.read_bytes().startswith(b"%PDF") for p, _ in files)
    assert [i for _, r in files for i in r.order] == render_pdf(docs).order


def test_form_choice_and_bad_forms(fonts):
    m = member("M-X", "田中 一郎", "タナカ イチロウ", 1, "1980-01-01", "1000001", "東京都千代田区千代田1-1")
    card = PrintDocument("X-1", CERTIFICATE, D("2026-06-10"), m, KUMIAI, D("2026-06-10"), D("2031-05-31"))  # the insurer's form: card
    bad = replace(card, id="X-2", form="scroll")
    result = render_pdf([card, bad, PrintDocument("X-3", NOTICE, D("2026-06-10"), m, KOKUHO, D("2026-06-10"), D("2049-12-31")),
                         PrintDocument("X-4", REGISTRATION_NOTICE, D("2026-06-10"), m, KYOKAI, registered=D("2026-06-08"))])
    assert result.pages == 3 and result.held_back == ["X-2"] and "scroll" in str(result.warnings)


def test_pages_are_rendered_to_png_and_kept_as_artifacts(sample):
    """pdftoppm renders every page; one of each form is kept in artifacts/issuance/."""
    _need("pdftoppm")
    _, result, path = sample
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    names = {"D-0001": "certificate-card", "D-0002": "certificate-postcard", "D-0003": "certificate-a4", "D-0004": "notice-kouki-70plus",
             "D-0006": "notice-under-70", "D-0007": "registration-notice", "D-0008": "certificate-card-dv"}
    for doc_id, name in names.items():
        page = result.order.index(doc_id) + 1
        subprocess.run(["pdftoppm", "-png", "-r", "90", "-f", str(page), "-l", str(page), "-singlefile", str(path), str(ARTIFACTS / name)], check=True)
        png = (ARTIFACTS / f"{name}.png").read_bytes()
        assert png.startswith(b"\x89PNG") and len(png) > 20_000  # a page with content, not a blank one
    shutil.copy(path, ARTIFACTS / "sample-run.pdf")


def test_the_issuance_benchmark_runs_at_a_small_size(fonts, tmp_path):
    """`onshi bench issuance` (figures only; speed is never asserted)."""
    from typer.testing import CliRunner

    from onshi.interfaces.cli import app

    out = tmp_path / "bench.json"
    result = CliRunner().invoke(app, ["bench", "issuance", "--members", "300", "--pages", "30", "--json", str(out), "-o", str(tmp_path / "b.pdf")])
    assert result.exit_code == 0, result.output
    import json

    figures = {f["name"]: f for f in json.loads(out.read_text())["figures"]}
    assert figures["decide_many (pure engine, 1 process)"]["requests"] == 300
    assert figures["render_pdf (one PDF, postal-code order)"]["requests"] == 30
    assert (tmp_path / "b.pdf").read_bytes().startswith(b"%PDF")
    result = CliRunner().invoke(app, ["bench", "issuance", "--print-only", "--pages", "10"])
    assert result.exit_code == 0 and "decide_many" not in result.stdout
