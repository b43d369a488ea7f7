"""Building small registries for tests: insurers, facilities, keys, residents, members."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field

from sqlalchemy import Engine, insert, text

from onshi.domain.numbers import my_number_check_digit
from onshi.registry import schema
from onshi.registry.security import api_key_hash, my_number_hash
from onshi.registry.service import Registry

KYOKAI_TOKYO = "01130012"
KUMIAI = "06139984"
KOKUHO = "138057"
KOUKI_TOKYO = "39131156"
FACILITY = "1310000017"
OFFLINE_FACILITY = "1310000025"
INSURERS = {
    KYOKAI_TOKYO: ("全国健康保険協会東京支部", "kyokai"),
    KUMIAI: ("霞が関健康保険組合", "kumiai"),
    KOKUHO: ("練馬区", "kokuho"),
    KOUKI_TOKYO: ("東京都後期高齢者医療広域連合", "kouki"),
}
_serial = itertools.count(1)


def my_number(n: int) -> str:
    body = f"{n:011d}"
    return body + str(my_number_check_digit(body))


def key(role: str, subject: str) -> str:
    return f"test-{role}-{subject}"


@dataclass
class World:
    """A registry with the four example insurers, two facilities and their keys."""

    engine: Engine
    registry: Registry
    people: int = 0
    residents: dict = field(default_factory=dict)

    @classmethod
    def build(cls, engine: Engine) -> "World":
        with engine.begin() as conn:
            conn.execute(insert(schema.insurer), [dict(number=n, name=name, kind=kind, prefecture=13) for n, (name, kind) in INSURERS.items()])
            conn.execute(
                insert(schema.facility),
                [
                    dict(code=FACILITY, name="霞が関内科クリニック", prefecture=13, online=True, smartphone=True, mobile_consent=False),
                    dict(code=OFFLINE_FACILITY, name="紙請求診療所", prefecture=13, online=False, smartphone=False, mobile_consent=False),
                ],
            )
            keys = [dict(key_hash=api_key_hash(key("insurer", n)), role="insurer", subject=n, label=n) for n in INSURERS]
            keys += [dict(key_hash=api_key_hash(key("facility", f)), role="facility", subject=f, label=f) for f in (FACILITY, OFFLINE_FACILITY)]
            conn.execute(insert(schema.api_key), keys)
        return cls(engine, Registry(engine))

    def resident(self, *, name: str, kana: str, birth_date: str, sex: int = 1, address: str = "東京都千代田区霞が関1-2-2") -> str:
        """Add someone to the resident register; returns their (clear) 個人番号."""
        self.people += 1
        mn = my_number(self.people)
        with self.engine.begin() as conn:
            conn.execute(
                insert(schema.resident).values(
                    my_number_hash=my_number_hash(mn), name=name, kana=kana, birth_date=dt.date.fromisoformat(birth_date), sex=sex, address=address
                )
            )
        return mn

    def member(
        self,
        insurer: str = KYOKAI_TOKYO,
        *,
        name: str = "山田 太郎",
        kana: str = "ヤマダ タロウ",
        birth_date: str = "1980-06-15",
        sex: int = 1,
        symbol: str = "1234",
        number: str | None = None,
        branch: str = "00",
        start: str = "2015-04-01",
        notified: str | None = None,
        card: dict | None = None,
        my_number: str | None = None,
        **extra,
    ) -> dict:
        """Register an acquisition (and optionally a card) through the real operations."""
        mn = my_number or self.resident(name=name, kana=kana, birth_date=birth_date, sex=sex)
        number = number or str(1000 + self.people)
        body = self.registry.operate(
            insurer,
            "acquisition",
            dict(
                request_id=f"acq-{self.people}-{insurer}-{start}", my_number=mn, name=name, kana=kana, birth_date=birth_date, sex=sex,
                symbol=symbol, number=number, branch=branch, start=start, notified=notified or start, **extra,
            ),
        ).body
        out = {"my_number": mn, "insurer": insurer, "symbol": symbol, "number": number, "branch": branch, "birth_date": birth_date, **body}
        if card is not None:
            serial = card.get("serial") or f"TC{next(_serial):010d}"
            link = {"request_id": f"card-{serial}", "my_number": mn, "serial": serial, **{k: v for k, v in card.items() if k in ("issued", "card_expires", "cert_expires")}}
            self.registry.operate(insurer, "card_link", link)
            if card.get("registered", True):
                reg = {"request_id": f"reg-{serial}", "serial": serial}
                if card.get("registered_on"):
                    reg["registered_on"] = card["registered_on"]
                self.registry.operate(insurer, "card_registration", reg)
            out["serial"] = serial
        return out

    def certificate(self, member: dict, *, issued: str, expires: str | None, valid_from: str | None = None,
                    kind: str = "eligibility_certificate", form: str | None = "card") -> int:
        """A document the insurer issued for the member's qualification (資格確認書 by default)."""
        day = lambda v: dt.date.fromisoformat(v) if v else None  # noqa: E731
        with self.engine.begin() as conn:
            return conn.execute(
                insert(schema.document).values(
                    person_id=member["person_id"], qualification_id=member["qualification_id"], kind=kind, form=form,
                    issued=day(issued), valid_from=day(valid_from), expires=day(expires),
                ).returning(schema.document.c.id)
            ).scalar_one()

def analyst_key(engine: Engine) -> str:
    """An `analyst` API key (every statistic and what-if), as `onshi stats analyst-key` makes one."""
    k = key("analyst", "all")
    with engine.begin() as conn:
        conn.execute(insert(schema.api_key).values(key_hash=api_key_hash(k), role="analyst", subject="all", label="分析者"))
    return k


# ---------------------------------------------------------------- what issuance runs recorded


def plain(rows) -> list:  # noqa: ANN001
    """Rows as comparable tuples on every backend (SQLite hands back dates as text)."""
    return sorted(tuple(None if v is None else str(v) if isinstance(v, dt.date) else v for v in row) for row in rows)


def issuance_outcome(engine) -> dict:  # noqa: ANN001
    """What the runs recorded, keyed by what is not an id (the two registries number alike only by chance)."""
    with engine.connect() as conn:
        docs = {r.id: f"{r.qualification_id} {r.kind} {r.issued}" for r in conn.execute(text("SELECT id, qualification_id, kind, issued FROM document"))}
        sent = sorted(tuple(r) for r in conn.execute(text(
            "SELECT qualification_id, kind, form, issued, valid_from, expires, rules FROM document WHERE run_id IS NOT NULL")))
        ended = sorted((docs[r.document_id], r.run_date, r.previous_expires, r.valid_until, r.rules, docs.get(r.replaced_by)) for r in conn.execute(text(
            "SELECT e.document_id, r.run_date, e.previous_expires, e.valid_until, e.rules, e.replaced_by FROM document_end e "
            "JOIN issuance_run r ON r.id = e.run_id")))
        expires = sorted((docs[r.id], r.expires) for r in conn.execute(text("SELECT id, expires FROM document")))
        apps = sorted(tuple(r) for r in conn.execute(text("SELECT qualification_id, date, reason, decision, decided FROM certificate_application")))
    return {"sent": plain(sent), "ended": plain(ended), "expires": plain(expires), "applications": plain(apps)}
