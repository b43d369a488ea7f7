"""Every source the policy cites quotes a title printed in the seed it names, or is marked
`public` (issue 12 item 7: no invented titles)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from onshi.policy import load_policy
from onshi.policy.loader import DATA, SOURCES_FILE

SEEDS = Path(__file__).resolve().parents[2] / "shared" / "seeds"
SOURCES = yaml.safe_load((DATA / SOURCES_FILE).read_text(encoding="utf-8"))
_SPACE = re.compile(r"\s+")


def _flat(text: str) -> str:
    """The seeds are transcripts: line breaks and spaces inside a title are not the title's."""
    return _SPACE.sub("", text)


@pytest.mark.parametrize("key", sorted(SOURCES))
def test_each_source_quotes_its_seed_or_is_public(key):
    source = SOURCES[key]
    if source.get("public"):
        assert not source.get("seed"), f"{key}: public sources name no seed"
        return
    assert source.get("seed"), f"{key}: names no seed and is not marked public"
    path = SEEDS / source["seed"]
    if not SEEDS.is_dir():
        pytest.skip("../shared/seeds is not beside the checkout")
    assert path.is_file(), f"{key}: no seed {source['seed']}"
    assert _flat(source["title"]) in _flat(path.read_text(encoding="utf-8")), f"{key}: 「{source['title']}」 is not in {source['seed']}"
    assert source.get("date"), f"{key}: a seed source has a date"


def test_the_2025_notices_have_their_real_titles():
    sources = load_policy().sources
    assert sources["jimurenraku_2025_06_27"].title == "健康保険証の有効期限切れに伴う暫定的な取扱いに関する疑義解釈資料の送付について"
    assert sources["jimurenraku_2025_06_27"].seed.startswith("003_")
    assert sources["jimurenraku_2025_08_04"].title == "後期高齢者に係る資格確認書の暫定運用におけるマイナ保険証等の取扱いについて"
    assert sources["jimurenraku_2025_08_04"].seed.startswith("003_")


def test_every_defined_source_but_the_forwarding_letter_is_cited():
    policy = load_policy()
    cited = {e.source.key for rule in policy.rules.values() for e in rule.entries}
    assert set(SOURCES) - cited == {"nichii_2026_03_27"}  # the 日医 letter forwarding the 2026-03-25 事務連絡
