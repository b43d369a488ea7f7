"""The seeded population in columns (issue 14): numpy draws every person, household,
qualification, card and document of a chunk at once instead of one Python object per person.

A chunk is decided by (seed, people, today, chunk index) alone and every id in it by the
person ids it covers (qualification id = 3·person + k, document id = 5·person + k, card serial
a bijection of 8·person + k, member numbers a bijection of 2·person + k, member event id =
3·qualification + k, an application's id its qualification's): the same seed gives the same rows,
ids included, whatever the number of worker processes that generate the chunks (registry/seed.py).

What it models (kept from the per-person generator of issue 2/12; see seed.py's reference data):
Japan's 2025 age pyramid and male share by band; students 18–21; couples by age (the wife about
two years younger, married share by age), elder couples, children attached to parents 23–40
years older (88 % to a couple), at most four a home, sorted by birth on one 記号・番号 (枝番 00,
01, …); a home per household (prefecture by population, municipality by size, real and made-up
names, 丁目 or hyphen forms, buildings, postcodes by prefecture); family names by frequency,
沖縄's own, 異体字 outside JIS X 0208 (R-D4) whose register form is sometimes the common one
(R-I2); given names by era and sex with kana; the earner's insurance by age (協会けんぽ branch of
the home prefecture, 健保組合 by size, 共済 mostly local, 市町村国保), the spouse joining or
insured on their own, retirement onto 国保, employers (記号) of each insurer by size; job
changes within 120 days, the old qualification ended the day before (loss reason 03) and the
new one registered late or not yet (R-I1, F.1); 後期高齢者 from the 75th birthday (R-P4) with
the ended 国保 of recent ones, 1/2/3割, 現役並み for 70–74; notice and registration stamps
(newborns later, R-E7; the 広域連合 ahead of a 75th birthday); My Number cards by age whose
certificates expire in the renewal waves of seed 002, 健康保険証利用登録 (マイナポイント第2弾),
renewals in the alert window, in grace, after it (R-B4: registration cancelled, sometimes
redone) or never, early replacements, returned cards; the old 保険証 of A6 and the employee
insurers' FY2024 お知らせ (R-I4d); events, applications for a 資格確認書 (R-I3f, R-I3g) and
DV flags with a mailing address (R-D5, R-I3e).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import numpy as np

from ..domain.dates import add_months
from ..domain.numbers import PREFECTURES
from . import seeddata as S

Date = dt.date
EPOCH = Date(1970, 1, 1)
CHUNK = 100_000  # people per chunk: the unit of generation, of a worker's COPY and of determinism
Q_STRIDE, D_STRIDE, C_STRIDE = 3, 5, 8  # ids per person: qualifications, old documents, cards
E_STRIDE = 3  # member event ids per qualification: its acquisition, registration, loss

# 健康保険証利用登録 by age (who will register a card they hold), tuned so that the members
# holding a card whose registration stands on 2025-10-31 (R-S3) are about 70 % as nationally:
# 79.9 % hold a card and 87.8 % of holders registered it (デジタル庁, マイナンバーカードの普及に
# 関するダッシュボード, 2025; seed 002: 「登録者の割合が約7割」).
WILL_REGISTER = ((75, 0.935), (85, 0.905), (200, 0.785))
# Card holding by age (Japan ≈ 79.9 % of the population).
HOLDS = ((5, 0.55), (15, 0.84), (65, 0.89), (85, 0.91), (200, 0.70))
# Renewal behaviour of a certificate or card reaching its expiry (R-B2–B4): in the alert
# window, inside the grace period, after it, never.
RENEW_IN_WINDOW, RENEW_IN_GRACE, RENEW_LATE = 0.60, 0.90, 0.965


def day(d: Date) -> int:
    return (d - EPOCH).days


# ---------------------------------------------------------------- dates in columns (int days since 1970)


_LO, _HI = -25567, 84000  # 1900-01-01 … 2199-12-31 in days since 1970
_YMD = None
_MONTH_FIRST = None


def _tables() -> tuple[np.ndarray, np.ndarray]:
    global _YMD, _MONTH_FIRST
    if _YMD is None:
        a = np.arange(_LO, _HI).astype("M8[D]")
        months = a.astype("M8[M]")
        _YMD = np.stack([a.astype("M8[Y]").astype(np.int64) + 1970, months.astype(np.int64) % 12 + 1,
                         (a - months.astype("M8[D]")).astype(np.int64) + 1])
        _MONTH_FIRST = (np.arange(-12 * 70, 12 * 231)).astype("M8[M]").astype("M8[D]").astype(np.int64)
    return _YMD, _MONTH_FIRST


def ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    table, _ = _tables()
    i = np.asarray(days) - _LO
    return table[0][i], table[1][i], table[2][i]


def _month_first(months: np.ndarray) -> np.ndarray:
    """The first day of months counted from 1970-01."""
    return _tables()[1][np.asarray(months) + 12 * 70]


def from_ymd(y: np.ndarray, m: np.ndarray, d: np.ndarray, clamp: bool = True) -> np.ndarray:
    """clamp: 29 February → 28 February in common years (birthdays on documents);
    otherwise → 1 March (anniversaries, domain.dates.anniversary)."""
    months = (np.asarray(y) - 1970) * 12 + (np.asarray(m) - 1)
    first = _month_first(months)
    if clamp:
        d = np.minimum(d, _month_first(months + 1) - first)
    return first + d - 1


def anniversary(birth: np.ndarray, years) -> np.ndarray:  # noqa: ANN001
    y, m, d = ymd(birth)
    return from_ymd(y + years, m, d, clamp=False)


def age_on(birth: np.ndarray, on: Date) -> np.ndarray:
    y, m, d = ymd(birth)
    return on.year - y - ((on.month < m) | ((on.month == m) & (on.day < d)))


def nth_birthday_after(birth: np.ndarray, issued: np.ndarray, n) -> np.ndarray:  # noqa: ANN001
    by, bm, bd = ymd(birth)
    iy, _, _ = ymd(issued)
    first = iy + (from_ymd(iy, bm, bd) <= issued)
    return from_ymd(first + n - 1, bm, bd)


def card_expiry(birth: np.ndarray, issued: np.ndarray) -> np.ndarray:
    """R-B1 (domain.card.card_expiry): 10th birthday after issue, 5th for a minor."""
    majority = np.where(issued < day(Date(2022, 4, 1)), 20, 18)
    minor = issued < anniversary(birth, majority)
    return nth_birthday_after(birth, issued, np.where(minor, 5, 10))


def grace_end(expiry: np.ndarray) -> np.ndarray:
    """R-B2 (domain.card.grace_period_end): the last day of the 3rd month after the expiry's."""
    y, m, _ = ymd(expiry)
    return _month_first((y - 1970) * 12 + m - 1 + 4) - 1


# ---------------------------------------------------------------- small helpers


def _cum(weights) -> np.ndarray:  # noqa: ANN001
    return np.cumsum(np.asarray(list(weights), dtype=np.float64))


def _pick(rng: np.random.Generator, cum: np.ndarray, n: int) -> np.ndarray:
    return np.minimum(np.searchsorted(cum, rng.random(n) * cum[-1], side="right"), len(cum) - 1)


def _between(rng: np.random.Generator, lo, hi) -> np.ndarray:  # noqa: ANN001
    """Uniform integers in [lo, hi] (hi < lo → lo)."""
    lo = np.asarray(lo, dtype=np.int64)
    span = np.maximum(np.asarray(hi, dtype=np.int64) - lo, 0) + 1
    return lo + (rng.random(np.broadcast(lo, span).shape) * span).astype(np.int64)


def _stepwise(age: np.ndarray, table) -> np.ndarray:  # noqa: ANN001
    bounds = np.array([b for b, _ in table])
    values = np.array([v for _, v in table])
    return values[np.searchsorted(bounds, age, side="right")]


# ---------------------------------------------------------------- the catalogue in arrays


class Tables:
    """The catalogue (seed.Catalogue) as arrays, plus each employee insurer's employers (記号)."""

    def __init__(self, people: int, seed: int, today: Date) -> None:
        cat = self.cat = S.Catalogue(people, seed)
        self.today = today
        self.insurers = [i[0] for i in cat.insurers]
        index = {n: i for i, n in enumerate(self.insurers)}
        self.kind = [i[2] for i in cat.insurers]
        self.kyokai = np.array([index[cat.kyokai[p]] for p in range(1, 48)])
        self.kouki = np.array([index[cat.kouki[p]] for p in range(1, 48)])
        self.kumiai = np.array([index[n] for n in cat.kumiai])
        self.kumiai_cum = np.asarray(cat.kumiai_cum)
        self.kyosai_local = [np.array([index[n] for n in cat.kyosai_by_pref.get(p, [])], dtype=np.int64) for p in range(1, 48)]
        self.kyosai_national = np.array([index[n] for n in cat.kyosai_national])
        munis = [m for p in range(1, 48) for m in cat.municipalities[p]]
        self.munis = munis
        self.muni_first = np.cumsum([0] + [len(cat.municipalities[p]) for p in range(1, 47)])
        self.muni_cums = [np.asarray(cat.muni_cum[p]) for p in range(1, 48)]
        self.muni_insurer = np.array([index[m.insurer] for m in munis])
        self.muni_expiry = np.array([day(m.card_expiry) for m in munis])
        self.muni_card_issue = np.array([day(add_months(m.card_expiry, -12)) + 1 for m in munis])
        self.muni_names = [m.name for m in munis]
        self.muni_postcode = np.array([m.postcode for m in munis])
        sym = [m.symbols for m in munis]
        self.muni_sym_len = np.array([len(s) for s in sym])
        self.muni_sym_off = np.cumsum([0] + [len(s) for s in sym[:-1]])
        self.muni_symbols = [s for ss in sym for s in ss]
        self.pref_cum = np.asarray(cat.pref_cum)
        self.notice_day = np.array([day(cat.notice_day[n]) if n in cat.notice_day else 0 for n in self.insurers])
        self.employee = np.array([k in S.EMPLOYEE_KINDS for k in self.kind])
        self._employers(people, seed)
        self.surname_cum = _cum(1 / (r + 5) for r in range(len(S.SURNAMES)))
        self.given = []
        for _, men, women in S.GIVEN_NAMES:
            pairs = [[tuple(s.split(":")) for s in names.split()] for names in (men, women)]
            self.given.append([(p, _cum(1 / (r + 4) for r in range(len(p)))) for p in pairs])
        self.given_before = np.array([g[0] for g in S.GIVEN_NAMES])

    def _employers(self, people: int, seed: int) -> None:
        """Employers of each employee insurer, about as many as the per-member generator made
        (a new employer for 12 % / 2 % / 5 % of 協会けんぽ / 組合 / 共済 members), with
        symbols of that insurer's style; members join them with falling weights."""
        rate = {"kyokai": 0.12, "kumiai": 0.02, "kyosai": 0.05}
        kumiai_share = np.diff(np.concatenate([[0.0], self.kumiai_cum])) / self.kumiai_cum[-1]
        members = np.zeros(len(self.insurers))
        members[self.kyokai] = people * 0.30 * np.asarray(S.PREF_POPULATION) / sum(S.PREF_POPULATION)
        members[self.kumiai] = people * 0.24 * kumiai_share
        kyosai = [i for i, k in enumerate(self.kind) if k == "kyosai"]
        members[kyosai] = people * 0.06 / max(1, len(kyosai))
        offsets, lengths, symbols = [], [], []
        for i, kind in enumerate(self.kind):
            offsets.append(len(symbols))
            if kind not in rate:
                lengths.append(0)
                continue
            rng = np.random.default_rng([seed, 7, int(self.insurers[i])])
            n = int(min(200_000, max(1, members[i] * rate[kind])))
            if kind == "kyokai":
                digits = rng.choice(np.array([4, 4, 5, 6, 7, 8]), 2 * n + 10)
                values = _between(rng, 10 ** (digits - 1), 10**digits - 1)
            elif kind == "kumiai":
                values = _between(rng, 1, rng.choice(np.array([99, 999, 9999]), 2 * n + 10))
            else:
                values = _between(rng, 10, rng.choice(np.array([999, 9999, 99999]), 2 * n + 10))
            _, first = np.unique(values, return_index=True)
            values = values[np.sort(first)][:n]
            lengths.append(len(values))
            symbols += [str(v) for v in values]
        self.emp_off, self.emp_len, self.emp_symbols = np.array(offsets), np.array(lengths), symbols


# ---------------------------------------------------------------- one chunk


@dataclass
class Col:
    """A column of a chunk: kind int | date | bool | str; values; nulls (mask or None)."""

    kind: str
    values: object
    null: np.ndarray | None = None


@dataclass
class Coded:
    """A str column as its distinct words and one index a row: no Python string per row."""

    words: list
    index: np.ndarray


# numbers as text, looked up rather than formatted one by one: plain (0–9999), 3 and 4 digits
_DIGITS = {0: np.array([str(i) for i in range(10_000)]), 3: np.array([f"{i:03d}" for i in range(10_000)]),
           4: np.array([f"{i:04d}" for i in range(10_000)])}


def _int(v, null=None) -> Col:  # noqa: ANN001
    return Col("int", np.asarray(v, dtype=np.int64), null)


def _date(v, null=None) -> Col:  # noqa: ANN001
    return Col("date", np.asarray(v, dtype=np.int64), null)


def _str(v, null=None) -> Col:  # noqa: ANN001
    return Col("str", v, null)


def _bool(v) -> Col:  # noqa: ANN001
    return Col("bool", np.asarray(v, dtype=bool))


BRANCHES = [f"{b:02d}" for b in range(100)] + [""]  # 枝番 by position in the enrollment; "" for 後期高齢者
NONE = np.iinfo(np.int64).min  # a null date or id inside an int column


def _d(values: np.ndarray) -> Col:
    """A date column whose nulls are NONE."""
    return _date(np.where(values == NONE, 0, values), values == NONE)


def generate(t: Tables, people: int, seed: int, index: int, first_id: int, n: int, mn_key: bytes) -> dict[str, dict[str, Col]]:
    return _Chunk(t, people, seed, index, first_id, n, mn_key).rows()


class _Chunk:
    def __init__(self, t: Tables, people: int, seed: int, index: int, first_id: int, n: int, mn_key: bytes) -> None:
        self.t, self.n, self.mn_key = t, n, mn_key
        self.today = t.today
        self.T = day(t.today)
        self.rng = np.random.default_rng([seed, people, self.T, index, 14])
        self.pid = np.arange(first_id, first_id + n, dtype=np.int64)
        self.seed = seed
        self.digits = max(6, len(str(2 * (people + 1))))
        self._people()
        self._households()
        self._settle()
        self._insure()
        self._cards()

    # -------------------------------------------------- people

    def _people(self) -> None:
        rng, n = self.rng, self.n
        band = _pick(rng, _cum(S.AGE_BANDS), n)
        years = np.where(band == len(S.AGE_BANDS) - 1, 90 + np.minimum(rng.exponential(4.0, n), 17), 5 * band + 5 * rng.random(n))
        self.birth = self.T - (years * 365.2425).astype(np.int64)
        self.sex = np.where(rng.random(n) < np.asarray(S.MALE_SHARE)[band], 1, 2)
        self.age = age_on(self.birth, self.today)
        self.student = (self.age >= 18) & (self.age <= 21) & (rng.random(n) < 0.55)

    # -------------------------------------------------- households

    def _couples(self, idx: np.ndarray, share: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pairs (man, woman) among idx, each married with chance `share`, matched by age rank
        (the wife about two years younger); the rest single."""
        rng = self.rng
        married = rng.random(len(idx)) < share
        men = idx[married & (self.sex[idx] == 1)]
        women = idx[married & (self.sex[idx] == 2)]
        k = min(len(men), len(women))
        men = rng.permutation(men)[:k]
        women = rng.permutation(women)[:k]
        men = men[np.argsort(self.age[men] - 2 + rng.normal(0, 2.5, k), kind="stable")]
        women = women[np.argsort(self.age[women] + rng.normal(0, 2.5, k), kind="stable")]
        paired = np.zeros(self.n, dtype=bool)
        paired[men] = paired[women] = True
        return men, women, idx[~paired[idx]]

    def _households(self) -> None:
        rng, age = self.rng, self.age
        ids = np.arange(self.n)
        adults = ids[(age >= 18) & (age < 75) & ~self.student]
        elders = ids[age >= 75]
        kids = ids[(age < 18) | self.student]
        share = np.select([age[adults] < 25, age[adults] < 30, age[adults] < 35, age[adults] < 40], [0.08, 0.30, 0.55, 0.65], 0.70)
        men, women, singles = self._couples(adults, share)
        emen, ewomen, esingles = self._couples(elders, np.full(len(elders), 0.5))
        # households: couples, single adults, then elder homes; head / partner (-1: none)
        head = np.concatenate([men, singles, emen, esingles])
        partner = np.concatenate([women, np.full(len(singles), -1), ewomen, np.full(len(esingles), -1)])
        elder_home = np.concatenate([np.zeros(len(men) + len(singles), bool), np.ones(len(emen) + len(esingles), bool)])
        working = len(men) + len(singles)
        parent_age = np.where(partner >= 0, age[np.maximum(partner, 0)], age[head])[:working]
        married = np.arange(working) < len(men)
        home = np.full(self.n, -1, dtype=np.int64)
        # children: to a home whose mother (or single parent) is 23–40 years older, 88 % to a couple
        target = age[kids] + _between(rng, 23, 40 + np.zeros(len(kids), np.int64))
        want_married = rng.random(len(kids)) < 0.88
        chosen = np.full(len(kids), -1, dtype=np.int64)
        for pool_mask, sel in ((married, want_married), (~married, ~want_married), (np.ones(working, bool), np.ones(len(kids), bool))):
            pool = np.flatnonzero(pool_mask)
            if not len(pool):
                continue
            order = pool[np.argsort(parent_age[pool], kind="stable")]
            sorted_age = parent_age[order]
            todo = np.flatnonzero(sel & (chosen < 0))
            lo = np.searchsorted(sorted_age, target[todo] - 2, "left")
            hi = np.searchsorted(sorted_age, target[todo] + 2, "right")
            ok = hi > lo
            pick = lo + (rng.random(len(todo)) * (hi - lo)).astype(np.int64)
            chosen[todo[ok]] = order[pick[ok]]
        # at most four children a home (the others live on their own, as the per-person generator did)
        has = chosen >= 0
        order = np.lexsort((rng.random(len(kids)), chosen))
        ranks = np.empty(len(kids), dtype=np.int64)
        sorted_home = chosen[order]
        starts = np.r_[0, np.flatnonzero(np.diff(sorted_home)) + 1]
        run = np.repeat(starts, np.diff(np.r_[starts, len(kids)]))
        ranks[order] = np.arange(len(kids)) - run
        chosen[has & (ranks >= 4)] = -1
        alone = kids[chosen < 0]
        head = np.concatenate([head, alone])
        partner = np.concatenate([partner, np.full(len(alone), -1)])
        elder_home = np.concatenate([elder_home, np.zeros(len(alone), bool)])
        H = len(head)
        home[head] = np.arange(H)
        home[partner[partner >= 0]] = np.flatnonzero(partner >= 0)
        kid_in = kids[chosen >= 0]
        home[kid_in] = chosen[chosen >= 0]
        self.head, self.partner, self.elder_home, self.home, self.H = head, partner, elder_home, home, H
        self.kids, self.kid_home = kid_in, chosen[chosen >= 0]

    def _settle(self) -> None:
        """A home per household (prefecture, municipality, address, postcode) and the names."""
        t, rng, H = self.t, self.rng, self.H
        pref = _pick(rng, t.pref_cum, H) + 1
        muni = np.empty(H, dtype=np.int64)
        u = rng.random(H)
        for p in range(1, 48):
            at = np.flatnonzero(pref == p)
            cum = t.muni_cums[p - 1]
            muni[at] = t.muni_first[p - 1] + np.minimum(np.searchsorted(cum, u[at] * cum[-1], "right"), len(cum) - 1)
        self.h_pref, self.h_muni = pref, muni
        variant = rng.random(H) < S.VARIANT_SHARE
        okinawa = ~variant & (pref == 47) & (rng.random(H) < 0.4)
        common = _pick(rng, t.surname_cum, H)
        vi = rng.integers(0, len(S.VARIANT_SURNAMES), H)
        oi = rng.integers(0, len(S.OKINAWA_SURNAMES), H)
        town = rng.integers(0, len(S.TOWNS), H)
        cbg = np.stack([rng.integers(1, 6, H), rng.integers(1, 31, H), rng.integers(1, 26, H)])  # 丁目, 番, 号
        has_building = rng.random(H) < 0.25
        bi, bn = rng.integers(0, len(S.BUILDINGS), H), rng.integers(0, len(S.BUILDING_NAMES), H)
        room = rng.integers(1, 9, H) * 100 + rng.integers(1, 13, H)
        chome = rng.random(H) < 0.1
        post = rng.integers(0, 10000, H)
        # surnames: the common ones, then 沖縄's, then the 異体字 (with their common form)
        nc, no = len(S.SURNAMES), len(S.OKINAWA_SURNAMES)
        pool = [*S.SURNAMES, *S.OKINAWA_SURNAMES, *((v, k) for v, _, k in S.VARIANT_SURNAMES)]
        which = np.where(variant, nc + no + vi, np.where(okinawa, nc + oi, common))
        surname = np.array([w for w, _ in pool])[which]
        sur_kana = np.array([k for _, k in pool])[which]
        sur_common = np.array([c for _, c, _ in S.VARIANT_SURNAMES])[np.where(variant, vi, 0)]
        add = np.strings.add
        c, b, g = _DIGITS[0][cbg]
        building = np.where(has_building, add(add(add(add(" ", np.array(S.BUILDINGS)[bi]), np.array(S.BUILDING_NAMES)[bn]), " "),
                                              _DIGITS[0][room]), "")
        place = add(add(np.array(PREFECTURES)[pref - 1], np.array(t.muni_names)[muni]), np.array(S.TOWNS)[town])
        address = add(add(add(add(add(add(place, c), "-"), b), "-"), g), building)
        formal = add(add(add(add(add(add(add(place, c), "丁目"), b), "番"), g), "号"), building)
        self.h_address, self.h_resident_address = address.tolist(), np.where(chome, formal, address).tolist()
        self.h_postcode = add(add(_DIGITS[3][t.muni_postcode[muni]], "-"), _DIGITS[4][post]).tolist()
        # given names by era of birth and sex
        n = self.n
        era = np.searchsorted(t.given_before, ymd(self.birth)[0], side="right")
        given = np.zeros(n, np.int64)  # index into the flat list of (name, kana)
        flat: list = []
        for e in range(len(t.given)):
            for sx in (1, 2):
                at = np.flatnonzero((era == e) & (self.sex == sx))
                pairs, cum = t.given[e][sx - 1]
                given[at] = len(flat) + _pick(rng, cum, len(at))
                flat += pairs
        homes = self.home
        keep_common = rng.random(n) < S.VARIANT_RESIDENT_COMMON
        given_name = add(" ", np.array([w for w, _ in flat])[given])
        name = add(surname[homes], given_name)
        self.name = name.tolist()
        self.kana = add(sur_kana[homes], add(" ", np.array([k for _, k in flat])[given])).tolist()
        self.resident_name = np.where(variant[homes] & keep_common, add(sur_common[homes], given_name), name).tolist()

    # -------------------------------------------------- insurance

    def _earner_kind(self, age: np.ndarray) -> np.ndarray:
        """0 kyokai, 1 kumiai, 2 kyosai, 3 kokuho (EARNER_KINDS by age)."""
        kinds = np.full(len(age), 3, dtype=np.int64)
        u = self.rng.random(len(age))
        lower = 0
        for below, pairs in S.EARNER_KINDS:
            at = (age >= lower) & (age < below)
            cum = _cum(w for _, w in pairs)
            kinds[at] = np.searchsorted(cum, u[at] * cum[-1], "right")
            lower = below
        return kinds

    def _employment_start(self, p: np.ndarray) -> np.ndarray:
        rng, T = self.rng, self.T
        age = self.age[p]
        earliest = np.minimum(T, anniversary(self.birth[p], np.where(age < 23, 18, 22)))
        start = T - ((T - earliest) * rng.random(len(p)) ** 1.6).astype(np.int64)
        y, m, _ = ymd(start)
        start = np.where(rng.random(len(p)) < 0.6, from_ymd(y, m, np.ones_like(y)), start)
        return np.maximum(start, earliest)

    def _head_start(self, p: np.ndarray, kind: np.ndarray) -> np.ndarray:
        rng = self.rng
        start = self._employment_start(p)
        retired = anniversary(self.birth[p], rng.choice(np.array([60, 60, 60, 62, 65]), len(p)))
        use = (kind == 3) & (self.age[p] >= 62) & (rng.random(len(p)) < 0.8) & (retired <= self.T)
        return np.where(use, retired, start)

    def _insure(self) -> None:
        rng, T, age, sex = self.rng, self.T, self.age, self.sex
        work = ~self.elder_home
        hh = np.flatnonzero(work)
        head, partner = self.head[hh].copy(), self.partner[hh].copy()
        # the insured earner of a couple under 65 is usually the husband (the head is the man)
        has_p = partner >= 0
        pp = np.maximum(partner, 0)
        young = has_p & (age[head] < 65) & (age[pp] < 65)
        swap = np.where(young, rng.random(len(hh)) >= 0.85, has_p & (rng.random(len(hh)) < 0.5))
        head, partner = np.where(swap, partner, head), np.where(swap, head, partner)
        pp = np.maximum(partner, 0)
        kind = np.where(age[head] < 18, 3, self._earner_kind(age[head]))
        u = rng.random(len(hh))
        joins = np.where(kind == 3, (age[pp] >= 65) | (u < 0.65),
                         u < np.where(sex[pp] == 2, np.where(age[pp] < 60, 0.5, 0.6), 0.1))
        own = self._earner_kind(age[pp])
        joins = has_p & (joins | ((kind == 3) & (own == 3)))
        alone = has_p & ~joins
        start = np.where(age[head] < 18, self.birth[head], self._head_start(head, kind))
        change = (age[head] >= 20) & (age[head] < 65) & (rng.random(len(hh)) < S.JOB_CHANGE_SHARE)
        # enrollments: (head person, key k, kind, start, end, home household, is-new-after-change)
        E: dict[str, list] = {k: [] for k in ("head", "k", "kind", "start", "end", "house", "fresh")}

        def add(h, k, kd, st, en, house, fresh) -> None:  # noqa: ANN001
            for key, v in zip(E, (h, k, kd, st, en, house, fresh)):
                E[key].append(np.broadcast_to(np.asarray(v, dtype=np.int64), np.shape(h)).copy())

        # the main enrollment (or, with a job change, the old and the new one)
        ch = np.flatnonzero(change)
        cday = T - _between(rng, 0, np.full(len(ch), S.JOB_CHANGE_DAYS))
        st = start[ch]
        late = st > cday - 60
        st = np.where(late, np.maximum(cday - _between(rng, 60, np.full(len(ch), 900)), anniversary(self.birth[head[ch]], 18)), st)
        old_kind = kind[ch]
        new_kind = np.where(old_kind < 3, np.where(rng.random(len(ch)) < 0.75, rng.integers(0, 3, len(ch)), 3), rng.integers(0, 3, len(ch)))
        keep = np.flatnonzero(~change)
        add(head[keep], 0, kind[keep], start[keep], NONE, hh[keep], 0)
        had = st < cday
        add(head[ch][had], 0, old_kind[had], st[had], cday[had] - 1, hh[ch][had], 0)
        add(head[ch], 1, new_kind, cday, NONE, hh[ch], 1)
        # a spouse insured on their own
        pa = np.flatnonzero(alone)
        okind = own[pa]
        add(partner[pa], 0, okind, self._head_start(partner[pa], okind), NONE, -1, 0)
        main_count = len(keep) + int(had.sum()) + len(ch)
        e = {k: np.concatenate(v) for k, v in E.items()}
        n_e = len(e["head"])
        # members: (enrollment, person, position); the partner joins main enrollments, kids follow by birth
        e_house = e["house"]
        house_of_hh = np.full(self.H, -1, dtype=np.int64)
        house_of_hh[hh] = np.arange(len(hh))
        main = np.arange(main_count)
        hi = house_of_hh[e_house[main]]
        m_e = [np.arange(n_e)]
        m_p = [e["head"]]
        m_pos = [np.zeros(n_e, dtype=np.int64)]
        jm = joins[hi]
        m_e.append(main[jm])
        m_p.append(partner[hi][jm])
        m_pos.append(np.ones(int(jm.sum()), dtype=np.int64))
        # kids: sorted by (home, birth); a home's main enrollments take them all
        kids, kh = self.kids, self.kid_home
        order = np.lexsort((self.birth[kids], kh))
        kids, kh = kids[order], kh[order]
        starts = np.r_[0, np.flatnonzero(np.diff(kh)) + 1] if len(kh) else np.zeros(0, np.int64)
        rank = np.arange(len(kids)) - np.repeat(starts, np.diff(np.r_[starts, len(kids)])) if len(kids) else np.zeros(0, np.int64)
        by_home = np.argsort(e_house[main], kind="stable")
        sorted_home = e_house[main][by_home]
        lo = np.searchsorted(sorted_home, kh, "left")
        hi2 = np.searchsorted(sorted_home, kh, "right")
        for j in range(2):  # at most two main enrollments a home (old and new)
            ok = hi2 - lo > j
            enr = main[by_home[lo[ok] + j]]
            m_e.append(enr)
            m_p.append(kids[ok])
            m_pos.append(1 + joins[house_of_hh[kh[ok]]] + rank[ok])
        # 後期高齢者 (R-P4): each elder on their own number, after the ended 国保 of a recent one
        elders = np.flatnonzero(age >= 75)
        kstart = np.maximum(anniversary(self.birth[elders], 75), day(S.KOUKI_SYSTEM_START))
        recent = (T - kstart) < 730
        before = anniversary(self.birth[elders], rng.choice(np.array([60, 65, 65, 70]), len(elders)))
        prior = recent & (before < kstart)
        pe = elders[prior]
        base = n_e
        e_prior = {"head": pe, "k": np.ones(len(pe), np.int64), "kind": np.full(len(pe), 3), "start": before[prior],
                   "end": kstart[prior] - 1, "house": np.full(len(pe), -1), "fresh": np.zeros(len(pe), np.int64)}
        for k in e:
            e[k] = np.concatenate([e[k], e_prior[k]])
        m_e.append(base + np.arange(len(pe)))
        m_p.append(pe)
        m_pos.append(np.zeros(len(pe), dtype=np.int64))
        self.e = e
        self.m = (np.concatenate(m_e), np.concatenate(m_p), np.concatenate(m_pos))
        self.kouki = (elders, kstart)
        self._qualifications()

    def _insurer_of(self, kind: np.ndarray, person: np.ndarray) -> np.ndarray:
        t, rng = self.t, self.rng
        house = self.home[person]
        pref, muni = self.h_pref[house], self.h_muni[house]
        out = np.where(kind == 0, t.kyokai[pref - 1], t.muni_insurer[muni])
        at = np.flatnonzero(kind == 1)
        out[at] = t.kumiai[_pick(rng, t.kumiai_cum, len(at))]
        at = np.flatnonzero(kind == 2)
        u, v = rng.random(len(at)), rng.random(len(at))
        nat = t.kyosai_national
        choice = nat[(v * len(nat)).astype(np.int64)]
        for p in range(1, 48):
            local = t.kyosai_local[p - 1]
            if not len(local):
                continue
            sel = (pref[at] == p) & (u < 0.8)
            choice[sel] = local[(v[sel] * len(local)).astype(np.int64)]
        out[at] = choice
        return out

    def _stamps(self, start: np.ndarray, newborn: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """notified ≈ start + 0–3 days (newborns 7–25, R-E7), registered 0–4 days after."""
        rng, T = self.rng, self.T
        notified = start + np.where(newborn, _between(rng, 7, np.full(len(start), 25)), _between(rng, 0, np.full(len(start), 3)))
        registered = notified + _between(rng, 0, np.full(len(start), 4))
        ok = notified <= T
        return np.where(ok, notified, NONE), np.where(ok & (registered <= T), registered, NONE)

    def _qualifications(self) -> None:
        t, rng, e, T = self.t, self.rng, self.e, self.T
        n_e = len(e["head"])
        kind = e["kind"]
        insurer = self._insurer_of(kind, e["head"])
        # 記号: the municipality's symbols (国保) or an employer of the insurer
        house = self.home[e["head"]]
        muni = self.h_muni[house]
        sym_idx = np.where(kind == 3, t.muni_sym_off[muni] + (rng.random(n_e) * t.muni_sym_len[muni]).astype(np.int64), 0)
        emp_len = np.maximum(t.emp_len[insurer], 1)
        r = np.minimum(np.exp(rng.random(n_e) * np.log(emp_len + 1)).astype(np.int64) - 1, emp_len - 1)
        emp_idx = t.emp_off[insurer] + r
        symbols = [t.muni_symbols[s] if k == 3 else t.emp_symbols[x] for k, s, x in zip(kind.tolist(), sym_idx.tolist(), emp_idx.tolist())]
        modulus = 10**self.digits
        number = ((2 * e["head"] + e["k"] + 2 * (self.pid[0] - 1)) * 7919 + self.seed * 104729) % modulus
        # members
        me, mp, mpos = self.m
        start = np.where(mpos == 0, e["start"][me], np.maximum(e["start"][me], self.birth[mp]))
        end = e["end"][me]
        keep = (end == NONE) | (start <= end)
        me, mp, mpos, start, end = me[keep], mp[keep], mpos[keep], start[keep], end[keep]
        nq = len(me)
        q_kind = kind[me]
        notified, registered = self._stamps(start, start == self.birth[mp])
        # job changes: notified 0–5 days after the start, registered within 10 days, 11–40, or not yet (R-I1)
        fresh_e = np.flatnonzero(e["fresh"] == 1)
        u = rng.random(n_e)
        after = _between(rng, 0, np.full(n_e, 5))
        lag = np.where(u < S.UNREGISTERED_SHARE, NONE, np.where(u < 0.2, _between(rng, 11, np.full(n_e, 40)), _between(rng, 0, np.full(n_e, 10))))
        if len(fresh_e) and not (lag[fresh_e] == NONE).any():  # at least one a chunk: the most recent change
            lag[fresh_e[np.argmax(e["start"][fresh_e])]] = NONE
        fresh = e["fresh"][me] == 1
        c_notified = start + after[me]
        c_ok = c_notified <= T
        c_registered = np.where((lag[me] != NONE) & c_ok, c_notified + np.where(lag[me] == NONE, 0, lag[me]), NONE)
        c_registered = np.where(c_registered <= T, c_registered, NONE) if nq else c_registered
        notified = np.where(fresh, np.where(c_ok, c_notified, NONE), notified)
        registered = np.where(fresh, np.where(c_registered == NONE, NONE, c_registered), registered)
        age = self.age[mp]
        income_high = (age >= 70) & (age < 75) & (rng.random(nq) < 0.10)
        self.q = {
            "id": 3 * (self.pid[mp] - 1) + 1,  # made unique per person below
            "person": mp, "insurer": insurer[me], "kind": q_kind, "enr": me, "pos": mpos,
            "start": start, "end": end, "notified": notified, "registered": registered,
            "income_high": income_high, "ratio": np.full(nq, NONE), "symbol": [symbols[i] for i in me.tolist()],
            "number": number[me],
        }
        self._kouki_rows()
        q = self.q
        # qualification ids: 3·(person-1) + 1 + k, k by start
        order = np.lexsort((q["start"], q["person"]))
        for key in q:
            q[key] = [q[key][i] for i in order.tolist()] if isinstance(q[key], list) else q[key][order]
        person = q["person"]
        starts = np.r_[0, np.flatnonzero(np.diff(person)) + 1]
        k = np.arange(len(person)) - np.repeat(starts, np.diff(np.r_[starts, len(person)]))
        assert (k < Q_STRIDE).all()
        q["id"] = Q_STRIDE * (self.pid[person] - 1) + 1 + k

    def _kouki_rows(self) -> None:
        t, rng, T = self.t, self.rng, self.T
        elders, start = self.kouki
        n = len(elders)
        pref = self.h_pref[self.home[elders]]
        insurer = t.kouki[pref - 1]
        number = np.array([10**7 + (p * 55623059 + (self.seed * 7 + 3) % (9 * 10**7)) % (9 * 10**7) for p in self.pid[elders].tolist()], dtype=np.int64)
        ratio = np.array([r for r, _ in S.KOUKI_RATIOS])[_pick(rng, _cum(w for _, w in S.KOUKI_RATIOS), n)]
        on_birthday = start == anniversary(self.birth[elders], 75)
        notified, registered = self._stamps(start, np.zeros(n, bool))
        ahead = start - _between(rng, 40, np.full(n, 75))
        ahead_reg = ahead + _between(rng, 0, np.full(n, 4))
        notified = np.where(on_birthday, np.where(ahead <= T, ahead, NONE), notified)
        registered = np.where(on_birthday, np.where((ahead <= T) & (ahead_reg <= T), ahead_reg, NONE), registered)
        q = self.q
        add = {"id": np.zeros(n, np.int64), "person": elders, "insurer": insurer, "kind": np.full(n, 4), "enr": np.full(n, -1),
               "pos": np.zeros(n, np.int64), "start": start, "end": np.full(n, NONE), "notified": notified, "registered": registered,
               "income_high": ratio == 30, "ratio": ratio, "number": number}
        for key, v in add.items():
            q[key] = np.concatenate([q[key], v])
        q["symbol"] = q["symbol"] + [""] * n

    # -------------------------------------------------- My Number cards

    def _first_issue(self, p: np.ndarray, earliest: np.ndarray) -> np.ndarray:
        """An issue date whose certificate expiry falls in a fiscal year of the renewal waves."""
        rng, T = self.rng, self.T
        by, bm, bd = ymd(self.birth[p])
        shift = np.where((bm > 4) | ((bm == 4) & (bd >= 1)), 0, 1)
        los, his, ws = [], [], []
        stop = np.zeros(len(p), bool)
        for fy, weight in S.CERT_WAVES.items():
            year = fy + shift
            lo = from_ymd(year - 5, bm, bd)
            hi = from_ymd(year - 4, bm, bd) - 1
            stop |= lo > T
            valid = ~stop & (hi >= earliest)
            los.append(np.maximum(lo, earliest))
            his.append(np.minimum(hi, T))
            ws.append(np.where(valid, weight, 0.0))
        w = np.cumsum(np.stack(ws, 1), 1)
        total = w[:, -1]
        choice = np.minimum((w < (rng.random(len(p)) * total)[:, None]).sum(1), len(S.CERT_WAVES) - 1)
        rows = np.arange(len(p))
        lo, hi = np.stack(los, 1)[rows, choice], np.stack(his, 1)[rows, choice]
        return np.where(total > 0, _between(rng, lo, hi), NONE)

    def _cards(self) -> None:
        rng, T, n = self.rng, self.T, self.n
        holds = rng.random(n) < _stepwise(self.age, HOLDS)
        p = np.flatnonzero(holds)
        earliest = np.maximum(self.birth[p] + 30, day(S.CARD_START))
        issued = self._first_issue(p, earliest)
        ok = (earliest <= T) & (issued != NONE)
        p, issued = p[ok], issued[ok]
        will = rng.random(len(p)) < _stepwise(self.age[p], WILL_REGISTER)
        plan = self._registration_plan(issued)
        plan = np.where(will, plan, NONE)
        cols = {k: [] for k in ("person", "k", "issued", "card", "cert", "registered", "revoked")}
        k = 0
        while len(p):
            birth = self.birth[p]
            card_exp = card_expiry(birth, issued)
            cert_exp = np.minimum(nth_birthday_after(birth, issued, 5), card_exp)
            registered = np.where((plan != NONE) & (plan <= T), plan, NONE)
            grace = np.minimum(grace_end(cert_exp), grace_end(card_exp))
            renewal = self._renewal(issued, card_exp, cert_exp, grace)
            goes_on = (renewal != NONE) & (renewal <= T) & (renewal > issued)
            for key, v in (("person", p), ("k", np.full(len(p), k)), ("issued", issued), ("card", card_exp), ("cert", cert_exp),
                           ("registered", registered), ("revoked", np.where(goes_on, renewal, NONE))):
                cols[key].append(v)
            # R-B4: renewed past the grace period, the registration was cancelled (60 % redo it)
            lapsed = (plan != NONE) & (renewal > grace)
            redo = rng.random(len(p)) < 0.6
            plan = np.where(lapsed, np.where(redo, renewal + _between(rng, 0, np.full(len(p), 150)), NONE),
                            np.where(plan != NONE, np.maximum(plan, renewal), NONE))
            p, issued, plan = p[goes_on], renewal[goes_on], plan[goes_on]
            k += 1
        c = {key: np.concatenate(v) if v else np.zeros(0, np.int64) for key, v in cols.items()}
        assert (c["k"] < C_STRIDE).all()
        order = np.lexsort((c["k"], c["person"]))
        self.c = {key: v[order] for key, v in c.items()}

    def _registration_plan(self, issued: np.ndarray) -> np.ndarray:
        """健康保険証利用登録: many during マイナポイント第2弾 (2022-06 – 2023-09)."""
        rng, n = self.rng, len(issued)
        u = rng.random(n)
        a = _between(rng, day(S.INSURANCE_USE_START), np.full(n, day(Date(2022, 5, 31))))
        b = _between(rng, day(Date(2022, 6, 1)), np.full(n, day(Date(2023, 9, 30))))
        # most late registrations came before the old 保険証 ran out (2024-12-02, 2025-12-02)
        until = np.where(rng.random(n) < 0.7, min(self.T, day(Date(2025, 12, 1))), self.T)
        c = _between(rng, day(Date(2023, 10, 1)), np.maximum(day(Date(2023, 10, 1)), until))
        when = np.where(u < 0.25, a, np.where(u < 0.75, b, c))
        return np.maximum.reduce([when, issued + _between(rng, 0, np.full(n, 14)), np.full(n, day(S.INSURANCE_USE_START))])

    def _renewal(self, issued, card_exp, cert_exp, grace) -> np.ndarray:  # noqa: ANN001
        """Mostly in the alert window (R-B3) or the grace period (R-B2), some after it (R-B4),
        some never; a few replace a lost card early."""
        rng, n = self.rng, len(issued)
        expiry = np.minimum(cert_exp, card_exp)
        span = expiry - issued
        early = (rng.random(n) < 0.005) & (span > 60)
        u = rng.random(n)
        window = expiry - _between(rng, 0, np.full(n, 89))
        in_grace = expiry + _between(rng, 1, grace - expiry)
        late = grace + _between(rng, 1, np.full(n, 400))
        out = np.where(u < RENEW_IN_WINDOW, window, np.where(u < RENEW_IN_GRACE, in_grace, np.where(u < RENEW_LATE, late, NONE)))
        return np.where(early, issued + _between(rng, 30, span - 1), out)

    # -------------------------------------------------- rows

    def _my_number_hashes(self) -> np.ndarray:
        rng = np.random.default_rng([self.seed, 11])
        offset = int(rng.integers(0, 10**11))
        body = (self.pid * 61803398871 + offset) % 10**11  # a bijection: unique
        digits = (body[:, None] // (10 ** np.arange(11, dtype=np.int64))[None, :]) % 10  # least significant first
        q = np.array([n + 1 if n <= 6 else n - 5 for n in range(1, 12)])
        r = (digits * q).sum(1) % 11
        check = np.where(r <= 1, 0, 11 - r)
        numbers = body * 10 + check
        key = self.mn_key if len(self.mn_key) <= 64 else hashlib.sha256(self.mn_key).digest()
        key = key.ljust(64, b"\0")  # HMAC-SHA256 (security.my_number_hash) with its pads hashed once
        inner, outer = hashlib.sha256(bytes(b ^ 0x36 for b in key)), hashlib.sha256(bytes(b ^ 0x5C for b in key))

        def one(number: int) -> bytes:
            i = inner.copy()
            i.update(b"%012d" % number)
            o = outer.copy()
            o.update(i.digest())
            return o.digest()

        digests = np.frombuffer(b"".join(map(one, numbers.tolist())), np.uint8).reshape(-1, 32)
        return _hex(digests)

    def rows(self) -> dict[str, dict[str, Col]]:
        t, rng, T, q, c = self.t, self.rng, self.T, self.q, self.c
        n = self.n
        hashes = self._my_number_hashes()
        home = self.home
        out: dict[str, dict[str, Col]] = {}
        out["person"] = {"id": _int(self.pid), "my_number_hash": _str(hashes), "birth_date": _date(self.birth), "sex": _int(self.sex)}
        out["resident"] = {"my_number_hash": _str(hashes), "name": _str(self.resident_name), "kana": _str(self.kana),
                           "birth_date": _date(self.birth), "sex": _int(self.sex), "address": _str(Coded(self.h_resident_address, home))}
        # DV flags (R-D5) and the mailing address most of them gave (R-I3e)
        dv = np.zeros(n, bool)
        dv[rng.choice(n, max(1, round(n * S.DV_SHARE)), replace=False)] = True
        mail_addr, mail_post = [""], [""]  # words; person → index (0: none)
        mail_of = np.zeros(n, np.int64)
        for i in np.flatnonzero(dv & (rng.random(n) < 0.9)).tolist():
            pref = int(rng.integers(1, 48))
            muni = t.cat.municipalities[pref][0]
            mail_of[i] = len(mail_addr)
            mail_addr.append(f"{PREFECTURES[pref - 1]}{muni.name}{S.TOWNS[int(rng.integers(0, len(S.TOWNS)))]}{int(rng.integers(1, 6))}-"
                             f"{int(rng.integers(1, 31))}-{int(rng.integers(1, 26))} 支援センター気付")
            mail_post.append(f"{muni.postcode:03d}-{int(rng.integers(0, 10000)):04d}")
        person = q["person"]
        nq = len(person)
        pos = q["pos"]
        kind = q["kind"]
        is_kouki = kind == 4
        # the insured head of each family member: position 0 of the same enrollment
        enr = q["enr"]
        heads = np.zeros(max(int(enr.max(initial=-1)) + 1, 1), np.int64)
        at = (pos == 0) & (enr >= 0)
        heads[enr[at]] = person[at]
        qhome = home[person]
        qmail = mail_of[person]
        qcols = {
            "id": _int(q["id"]), "person_id": _int(self.pid[person]),
            "insurer_number": _str(Coded(t.insurers, q["insurer"])),
            "symbol": _str(q["symbol"]), "number": _str(list(map(str, q["number"].tolist()))),
            "branch": _str(Coded(BRANCHES, np.where(is_kouki, len(BRANCHES) - 1, pos))),
            "relation": _str(Coded(["self", "family"], (pos != 0).astype(np.int64))),
            "insured_name": _str(Coded(self.name, heads[np.maximum(enr, 0)]), pos == 0),
            "card_classification": _str(Coded(["01"], np.zeros(nq, np.int64))), "start": _date(q["start"]), "end": _d(q["end"]),
            "loss_reason": _str(Coded(["03"], np.zeros(nq, np.int64)), q["end"] == NONE),
            "income": _str(Coded(["general", "high"], q["income_high"].astype(np.int64))),
            "kouki_ratio": _int(np.where(q["ratio"] == NONE, 0, q["ratio"]), q["ratio"] == NONE),
            "notified": _d(q["notified"]), "registered": _d(q["registered"]),
            "name": _str(Coded(self.name, person)), "kana": _str(Coded(self.kana, person)),
            "address": _str(Coded(self.h_address, qhome)), "postcode": _str(Coded(self.h_postcode, qhome)),
            "dv_flag": _bool(dv[person]), "mailing_address": _str(Coded(mail_addr, qmail), qmail == 0),
            "mailing_postcode": _str(Coded(mail_post, qmail), qmail == 0),
        }
        out["qualification"] = qcols
        out["card"], returned_people = self._card_rows()
        out["document"] = self._documents()
        out["member_event"], out["certificate_application"] = self._history_facts()
        return out

    def _card_rows(self) -> tuple[dict[str, Col], np.ndarray]:
        rng, T, c = self.rng, self.T, self.c
        m = len(c["person"])
        serials = card_serials((self.pid[c["person"]] * C_STRIDE + c["k"]).astype(np.uint64), self.seed)
        revoked = c["revoked"].copy()
        live = (revoked == NONE) & (c["issued"] < T)
        back = live & (rng.random(m) < 0.0008)  # カード返納
        when = _between(rng, np.maximum(c["issued"], day(Date(2024, 12, 2))), np.full(m, T))
        revoked = np.where(back, when, revoked)
        returned = np.where(back, when, NONE)
        return {"serial": _str(serials), "person_id": _int(self.pid[c["person"]]), "issued": _date(c["issued"]),
                "card_expires": _date(c["card"]), "cert_expires": _date(c["cert"]), "insurance_registered": _d(c["registered"]),
                "revoked": _d(revoked), "returned": _d(returned)}, back

    def _documents(self) -> dict[str, Col]:
        """The last old 保険証 (A6) of every qualification open on 2024-12-01 and the employee
        insurers' one-time お知らせ of FY2024 (R-I4d); the history's runs send the rest."""
        t, rng, T, q = self.t, self.rng, self.T, self.q
        nq = len(q["person"])
        last = day(S.LAST_OLD_CARD)
        kind, start, end = q["kind"], q["start"], q["end"]
        open_then = (start <= last) & ((end == NONE) | (end > last))
        muni = self.h_muni[self.home[q["person"]]]
        issued = np.select([kind == 4, kind == 3], [np.maximum(start, day(Date(2024, 8, 1))), np.maximum(start, t.muni_card_issue[muni])],
                           np.minimum(start + _between(rng, 5, np.full(nq, 14)), last))
        expires = np.select([kind == 4, kind == 3], [np.full(nq, day(S.KOUKI_CARD_EXPIRY)), t.muni_expiry[muni]], day(S.EMPLOYEE_CARD_EXPIRY))
        card = open_then & (issued <= T)
        nday = t.notice_day[q["insurer"]]
        notice = t.employee[q["insurer"]] & (start <= nday) & ((end == NONE) | (end >= nday)) & (nday <= T)
        birth = self.birth[q["person"]]
        elderly = self._elderly_start(birth)
        y, m, d = ymd(nday)
        july = from_ymd(np.where((m < 7) | ((m == 7) & (d <= 31)), y, y + 1), np.full(nq, 7), np.full(nq, 31))
        n_exp = np.where(nday < elderly, NONE, np.minimum(july, anniversary(birth, 75) - 1))
        qid = q["id"]
        base = D_STRIDE * (self.pid[q["person"]] - 1) + 1
        # ids: per person, old cards and notices in qualification order
        rows_q = np.concatenate([np.flatnonzero(card), np.flatnonzero(notice)])
        is_notice = np.r_[np.zeros(card.sum(), bool), np.ones(notice.sum(), bool)]
        order = np.lexsort((is_notice, q["id"][rows_q]))
        rows_q, is_notice = rows_q[order], is_notice[order]
        person = q["person"][rows_q]
        starts = np.r_[0, np.flatnonzero(np.diff(person)) + 1] if len(person) else np.zeros(0, np.int64)
        k = np.arange(len(person)) - np.repeat(starts, np.diff(np.r_[starts, len(person)])) if len(person) else np.zeros(0, np.int64)
        assert (k < D_STRIDE).all()
        return {
            "id": _int(base[rows_q] + k), "person_id": _int(self.pid[person]), "qualification_id": _int(qid[rows_q]),
            "kind": _str(Coded(["insurance_card", "notice"], is_notice.astype(np.int64))),
            "form": _str(Coded(["a4"], np.zeros(len(is_notice), np.int64)), ~is_notice),
            "issued": _date(np.where(is_notice, nday[rows_q], issued[rows_q])),
            "valid_from": _date(np.where(is_notice, nday[rows_q], start[rows_q])),
            "expires": _d(np.where(is_notice, n_exp[rows_q], expires[rows_q])),
        }

    @staticmethod
    def _elderly_start(birth: np.ndarray) -> np.ndarray:
        """R-P3 (domain.copay.elderly_start): the 1st of the month after the day before the 70th
        birthday (born on the 1st: the birthday month)."""
        y, m, _ = ymd(anniversary(birth, 70) - 1)
        return _month_first((y - 1970) * 12 + m)

    def _history_facts(self) -> tuple[dict[str, Col], dict[str, Col]]:
        """What the insurer operations recorded since 2024-12-02 (registry/events.py):
        acquisitions and registrations, losses, applications for a 資格確認書 (R-I3f, R-I3g)."""
        t, rng, T, q = self.t, self.rng, self.T, self.q
        nq = len(q["person"])
        last = day(S.LAST_OLD_CARD)
        start, end, notified, registered = q["start"], q["end"], q["notified"], q["registered"]
        acq = (start > last) & (notified != NONE)
        reg = acq & (registered != NONE)
        loss = (end != NONE) & (end > last)
        loss_rec = np.minimum(end + _between(rng, 1, np.full(nq, 5)), T)
        parts = [(np.flatnonzero(acq), "acquisition", start, notified), (np.flatnonzero(reg), "registration_done", registered, registered),
                 (np.flatnonzero(loss), "loss", end, loss_rec)]
        ev_q, ev_kind, ev_date, ev_rec = [], [], [], []
        for k, (at, kind, d, rec) in enumerate(parts):
            ok = at[rec[at] <= T]
            ev_q.append(ok)
            ev_kind.append(np.full(len(ok), k))
            ev_date.append(d[ok])
            ev_rec.append(rec[ok])
        ev_q = np.concatenate(ev_q)
        order = np.argsort(q["id"][ev_q], kind="stable")
        ev_q = ev_q[order]
        # ids by the qualification (each kind at most once a qualification), not by the order the
        # workers' chunks reach the database: the same seed gives the same ids
        ev_id = E_STRIDE * (q["id"][ev_q] - 1) + 1 + np.concatenate(ev_kind)[order]
        events = {"id": _int(ev_id), "qualification_id": _int(q["id"][ev_q]), "insurer_number": _str(Coded(t.insurers, q["insurer"][ev_q])),
                  "kind": _str(Coded([kind for _, kind, _, _ in parts], np.concatenate(ev_kind)[order])), "date": _date(np.concatenate(ev_date)[order]),
                  "recorded": _date(np.concatenate(ev_rec)[order])}
        age = self.age[q["person"]]
        current = (end == NONE) | (end >= T)
        u = rng.random(nq)
        keep_cert = current & (q["kind"] == 4) & (age < 85) & (u < 0.04)  # a certificate after 2026-07 (R-I3g)
        other = current & ~keep_cert & (u < 0.004 + np.where(age >= 70, 0.01, 0))
        k_day = _between(rng, day(Date(2026, 4, 1)), np.full(nq, day(Date(2026, 7, 20))))
        o_day = _between(rng, np.maximum(start, day(Date(2024, 12, 2))), np.full(nq, T))
        when = np.where(keep_cert, k_day, o_day)
        apply = (keep_cert | other) & (when <= T)
        reasons = np.array(["care", "care", "card_lost", "card_renewal", "other"])
        reason = np.where(keep_cert, np.where(rng.random(nq) < 0.7, "care", "other"), reasons[rng.integers(0, 5, nq)])
        at = np.flatnonzero(apply)
        # at most one a qualification: its id is the qualification's
        applications = {"id": _int(q["id"][at]), "qualification_id": _int(q["id"][at]), "insurer_number": _str(Coded(t.insurers, q["insurer"][at])),
                        "date": _date(when[at]), "reason": _str(reason[at].tolist()), "recorded": _date(when[at])}
        return events, applications


_HEX = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)


def _hex(digests: np.ndarray) -> np.ndarray:
    """Rows of bytes as lower-case hex (hexdigest), one fixed-width bytes value a row."""
    out = np.empty((len(digests), 2 * digests.shape[1]), np.uint8)
    out[:, 0::2], out[:, 1::2] = _HEX[digests >> 4], _HEX[digests & 15]
    return out.view(f"S{out.shape[1]}").ravel()


_B32 = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", dtype=np.uint8)


def card_serials(keys: np.ndarray, seed: int) -> np.ndarray:
    """A bijection of the keys onto 60 bits, written as 12 base32 characters (A–Z, 2–7)."""
    offset = np.uint64(int(np.random.default_rng([seed, 13]).integers(0, 1 << 60)))
    with np.errstate(over="ignore"):
        value = (keys * np.uint64(0x9E3779B97F4A7C1) + offset) & np.uint64((1 << 60) - 1)
    shifts = np.arange(55, -1, -5, dtype=np.uint64)
    chars = _B32[((value[:, None] >> shifts[None, :]) & np.uint64(31)).astype(np.int64)]
    return np.ascontiguousarray(chars).view("S12").ravel()


# ---------------------------------------------------------------- serialising a chunk

_DATES = None


def _date_strings(values: np.ndarray) -> list[str]:
    global _DATES
    if _DATES is None:
        _DATES = np.datetime_as_string(np.arange(_LO, _HI).astype("M8[D]"))
    return _DATES[np.clip(values - _LO, 0, _HI - _LO - 1)].tolist()


def strings(col: Col) -> list:
    """A str column as Python strings, None for null."""
    v = col.values
    if isinstance(v, Coded):
        out = [v.words[i] for i in v.index.tolist()]
    elif isinstance(v, np.ndarray):  # fixed-width ASCII bytes
        out = v.astype(str).tolist()
    else:
        out = list(v)
    if col.null is not None:
        for i in np.flatnonzero(col.null).tolist():
            out[i] = None
    return out


def python_rows(table: dict[str, Col]) -> list[tuple]:
    """Rows for SQLite: dates as ISO strings (as SQLAlchemy stores them), None for null."""
    columns = []
    for col in table.values():
        if col.kind == "str":
            values = strings(col)
        elif col.kind == "bool":
            values = [int(v) for v in col.values.tolist()]
        else:
            values = _date_strings(col.values) if col.kind == "date" else col.values.tolist()
            if col.null is not None:
                for i in np.flatnonzero(col.null).tolist():
                    values[i] = None
        columns.append(values)
    return list(zip(*columns))


# PostgreSQL's binary COPY (https://www.postgresql.org/docs/15/sql-copy.html, "Binary Format"):
# a 19-byte header, per row an int16 field count then per field an int32 byte length (-1: null)
# and the value in the type's send format (big-endian integers, date = int32 days since
# 2000-01-01, bool = one byte, varchar = its UTF-8 bytes), an int16 -1 at the end. Built with
# numpy for a whole chunk at once: the server does not parse text and Python touches no row.
COPY_HEADER = b"PGCOPY\n\xff\r\n\0" + bytes(8)
_PG_EPOCH = 10957  # 2000-01-01 in days since 1970
_BINARY = {"int8": ">i8", "int4": ">i4", "int2": ">i2", "date": ">i4", "bool": "u1"}


def pg_types(table) -> dict[str, str]:  # noqa: ANN001
    """int8 | int4 | int2 | date | bool | text for each column of a schema table."""
    from sqlalchemy import BigInteger, Boolean, Date, Integer, SmallInteger

    def one(t) -> str:  # noqa: ANN001
        for cls, name in ((SmallInteger, "int2"), (BigInteger, "int8"), (Integer, "int4"), (Boolean, "bool"), (Date, "date")):
            if isinstance(t, cls):
                return name
        return "text"

    return {c.name: one(c.type) for c in table.columns}


def _utf8(words: list) -> tuple[np.ndarray, np.ndarray]:
    """The UTF-8 bytes of strings end to end and each one's length in bytes (no value holds a NUL)."""
    if not words:
        return np.zeros(0, np.uint8), np.zeros(0, np.int64)
    joined = np.frombuffer("\0".join(words).encode(), dtype=np.uint8)
    ends = np.flatnonzero(joined == 0)
    return joined[joined != 0], np.diff(np.r_[-1, ends, len(joined)]) - 1


def _payload(col: Col, pg: str, n: int):  # noqa: ANN202
    """(length per row with -1 for null, fixed (n, w) bytes or None, variable bytes, their start per row or None)."""
    null = col.null if col.null is not None and col.null.any() else None
    if col.kind != "str" or isinstance(col.values, np.ndarray):
        if col.kind == "str":  # fixed-width ASCII
            fixed = col.values.view(np.uint8).reshape(n, col.values.itemsize)
        else:
            v = col.values - _PG_EPOCH if col.kind == "date" else col.values
            fixed = np.ascontiguousarray(v.astype(_BINARY[pg])).view(np.uint8).reshape(n, np.dtype(_BINARY[pg]).itemsize)
        length = np.full(n, fixed.shape[1], np.int64)
        if null is not None:
            length[null] = -1
        return length, fixed, None, None
    if isinstance(col.values, Coded):
        data, word_len = _utf8(col.values.words)
        index = col.values.index
        length = word_len[index]
        start = (np.cumsum(word_len) - word_len)[index]
    else:
        values = col.values
        if null is None and None in values:
            null = np.fromiter((v is None for v in values), bool, n)
        data, length = _utf8([v or "" for v in values] if null is not None else values)
        start = None
    if null is not None:
        length = np.where(null, -1, length)
    return length, None, data, start


def _spread(dest: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Byte positions dest[i] … dest[i] + length[i] - 1 of every row, row after row."""
    return np.repeat(dest - (np.cumsum(length) - length), length) + np.arange(int(length.sum()))


def copy_binary(table: dict[str, Col], types: dict[str, str]) -> tuple[tuple[str, ...], np.ndarray]:
    """A chunk's table as COPY … (FORMAT binary) data (uint8); returns the columns in the order
    written (fixed-width columns without nulls first: one block a row, written at once)."""
    names = list(table)
    n = len(next(iter(table.values())).values)
    parts = {c: _payload(table[c], types[c], n) for c in names}
    block = [c for c in names if parts[c][1] is not None and (parts[c][0] >= 0).all()]
    rest = [c for c in names if c not in block]
    width = 2 + sum(4 + parts[c][1].shape[1] for c in block)
    head = np.empty((n, width), np.uint8)  # field count, then each column's length and value
    head[:, :2] = np.frombuffer(np.array(len(names), ">i2").tobytes(), np.uint8)
    at = 2
    for c in block:
        fixed = parts[c][1]
        head[:, at:at + 4] = np.frombuffer(np.array(fixed.shape[1], ">i4").tobytes(), np.uint8)
        head[:, at + 4:at + 4 + fixed.shape[1]] = fixed
        at += 4 + fixed.shape[1]
    if not rest:  # rows of one width: the blocks end to end
        return tuple(block), np.concatenate([np.frombuffer(COPY_HEADER, np.uint8), head.ravel(), np.full(2, 255, np.uint8)])
    size = np.full(n, width, np.int64)
    for c in rest:
        size += 4 + np.maximum(parts[c][0], 0)
    row = len(COPY_HEADER) + np.cumsum(size) - size
    out = np.empty(len(COPY_HEADER) + int(size.sum()) + 2, np.uint8)
    out[:len(COPY_HEADER)] = np.frombuffer(COPY_HEADER, np.uint8)
    out[-2:] = 255  # the trailer: int16 -1
    out[(row[:, None] + np.arange(width)).ravel()] = head.ravel()
    pos = row + width
    four = np.arange(4)
    for c in rest:
        length, fixed, data, start = parts[c]
        out[(pos[:, None] + four).ravel()] = length.astype(">i4").view(np.uint8)
        present = np.maximum(length, 0)
        if fixed is not None:
            ok = length >= 0
            out[(pos[ok, None] + 4 + np.arange(fixed.shape[1])).ravel()] = fixed[ok].ravel()
        elif start is None:
            out[_spread(pos + 4, present)] = data
        else:
            out[_spread(pos + 4, present)] = data[_spread(start, present)]
        pos += 4 + present
    return tuple(block + rest), out
