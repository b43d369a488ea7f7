"""`onshi bench review`: the month's review at national scale (issue 14 item 4) — e.g.
14,300,000 claims (a tenth of a national month) against 10,000,000 people — on PostgreSQL.

The registry and the claims are generated *in the database* (INSERT … SELECT over
generate_series: no row passes through Python), so a 10-million-person registry takes
minutes, not the hour `onshi seed` would take. Its shapes are the review's: households of
three on one set of numbers (本人 00, 家族 01/02); 協会けんぽ (47 branches), 健保組合, 共済,
市町村国保 of the household's prefecture; everyone 75 or over in the prefecture's 後期高齢者
医療広域連合 from their 75th birthday; one person in 16 (under 74) changed jobs during the
care month — the old qualification ended the day before, the new 健保組合 registered it a
week later, or, one in ten of them, not yet. The claims of the month (by default 90 %
変更なし; 6 % billed on the old qualification after the change → 振替; 2.5 % straddling it →
分割; 1 % with the new insurer not registered → 返戻; 0.5 % mistyped numbers → 返戻; and a
tenth of the nation's 不詳 claims, most identifiable) go into the scratch schema of `onshi
bench claims` (dropped afterwards unless --keep); the registry stays (a database of its own,
reused by the next run: drop it when done).

Measured: the review (one run, or slices by review body or by the facility's prefecture), its
steps, claims/s, the PostgreSQL backend's peak memory and what it spilled to disk, and in the
same run a reference: the bare hash join of the month's claims with the qualifications on
the billed numbers and birth date — the least step 1 can cost.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import time

from sqlalchemy import Engine, func, insert, select, text

from .. import config
from ..claims import review
from ..domain.names import fold_address, fold_kana
from ..domain.numbers import PREFECTURES, with_check_digit
from ..registry import db, schema
from ..registry.keys import get_setting, put_setting
from .claims import NATIONAL_MONTH, SCHEMA, drop_scratch_schema, scratch_schema

MARKER = "bench_review_registry"  # setting: how this database's registry was generated (JSON)
SLICES = ("none", "payer", "prefecture")
FACILITIES = 18_000  # a tenth of the nation's hospitals, clinics, dental clinics and pharmacies
# Of every 1,000 claims: 変更なし, 振替, 分割, 返戻 (new insurer not registered), 返戻 (mistyped numbers).
MIX = (("unchanged", 900), ("rerouted", 60), ("split", 25), ("not_registered", 10), ("mistyped", 5))
SURNAMES = [("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"), ("伊藤", "イトウ"), ("渡辺", "ワタナベ"),
            ("山本", "ヤマモト"), ("中村", "ナカムラ"), ("小林", "コバヤシ"), ("加藤", "カトウ"), ("吉田", "ヨシダ"), ("山田", "ヤマダ"),
            ("佐々木", "ササキ"), ("山口", "ヤマグチ"), ("松本", "マツモト"), ("井上", "イノウエ"), ("木村", "キムラ"), ("林", "ハヤシ"),
            ("斎藤", "サイトウ"), ("清水", "シミズ"), ("山﨑", "ヤマザキ"), ("森", "モリ"), ("池田", "イケダ"), ("橋本", "ハシモト"),
            ("阿部", "アベ"), ("石川", "イシカワ"), ("髙橋", "タカハシ"), ("前田", "マエダ"), ("藤田", "フジタ"), ("小川", "オガワ")]
GIVEN = [("太郎", "タロウ"), ("花子", "ハナコ"), ("一郎", "イチロウ"), ("美咲", "ミサキ"), ("翔太", "ショウタ"), ("陽菜", "ヒナ"), ("健", "ケン"),
         ("さくら", "サクラ"), ("大輔", "ダイスケ"), ("愛", "アイ"), ("拓也", "タクヤ"), ("結衣", "ユイ"), ("誠", "マコト"), ("直子", "ナオコ"),
         ("蓮", "レン"), ("葵", "アオイ"), ("博", "ヒロシ"), ("恵子", "ケイコ"), ("悠真", "ユウマ"), ("凛", "リン")]
CITIES = ["中央区", "北区", "南区", "東区", "西区", "本町", "緑区", "港区", "旭町", "栄町"]
# Insurers of each prefecture and kind (how many): the household picks one by its hash.
KINDS = (("kyokai", 1), ("kumiai", 30), ("kyosai", 2), ("kokuho", 36), ("kouki", 1))


def _h(expr: str, k: int, m: int, seed: int) -> str:
    """SQL: a hash of `expr` in 0..m-1, fixed by the seed (stable across runs and servers)."""
    return f"((((hashint8extended(({expr})::bigint, {seed * 64 + k}) % {m}) + {m}) % {m})::int)"


def _array(values: list[str]) -> str:
    return "(ARRAY[" + ", ".join("'" + v.replace("'", "''") + "'" for v in values) + "]::text[])"


def _insurers() -> list[dict]:
    out = []
    for p, pref in enumerate(PREFECTURES, start=1):
        short = pref[:-1] if pref[-1] in "都府県" else pref
        out.append(dict(number=with_check_digit(f"01{p:02d}001"), name=f"全国健康保険協会{short}支部", kind="kyokai", prefecture=p, k=0))
        out.append(dict(number=with_check_digit(f"39{p:02d}115"), name=f"{pref}後期高齢者医療広域連合", kind="kouki", prefecture=p, k=0))
        out += [dict(number=with_check_digit(f"06{p:02d}{n:03d}"), name=f"{short}第{n}健康保険組合", kind="kumiai", prefecture=p, k=n - 1)
                for n in range(1, 31)]
        out += [dict(number=with_check_digit(f"3{1 + n}{p:02d}{100 + n:03d}"), name=f"{short}職員共済組合{n + 1}", kind="kyosai", prefecture=p, k=n)
                for n in range(2)]
        out += [dict(number=with_check_digit(f"{p:02d}{n:03d}"), name=f"{short}第{n}市町村", kind="kokuho", prefecture=p, k=n - 1)
                for n in range(1, 37)]
    return out


def build_registry(engine: Engine, people: int, seed: int, today: dt.date, say) -> dict:  # noqa: ANN001
    """Generate the registry (insurers, people, qualifications) in the database; returns counts and seconds."""
    started = time.perf_counter()
    n, s = people, seed
    care = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    insurers = _insurers()
    q = schema.qualification
    secondary = [ix for table in (schema.person, q) for ix in table.indexes]
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL session_replication_role = replica"))  # rows consistent by construction: no FK triggers
        conn.execute(insert(schema.insurer), [{k: v for k, v in i.items() if k != "k"} for i in insurers])
        conn.execute(text("CREATE TEMPORARY TABLE bench_insurer (kind text, pref int, k int, number text) ON COMMIT DROP"))
        conn.execute(text("INSERT INTO bench_insurer VALUES (:kind, :prefecture, :k, :number)"), insurers)
        counts = {kind: c for kind, c in KINDS}
        for ix in secondary:  # indexes after the load
            ix.drop(conn)
        say(f"generating {n:,} people…")
        age = _h("p", 3, 33_000, s)  # days: 0–90 years
        conn.execute(text(f"""
            INSERT INTO person (id, birth_date, sex)
            SELECT p, DATE '{today.isoformat()}' - {age}, 1 + {_h("p", 8, 2, s)}::smallint FROM generate_series(1, {n}) AS p"""))
        say("generating their qualifications…")
        # One row per person (id = person id): the current qualification; changers get a second
        # (id n + p / 16): the one they left. See the module's docstring.
        hh = "((p - 1) / 3)"
        kind = (f"CASE WHEN {age} >= 27394 THEN 'kouki' ELSE CASE WHEN {_h(hh, 2, 100, s)} < 40 THEN 'kyokai' "
                f"WHEN {_h(hh, 2, 100, s)} < 65 THEN 'kumiai' WHEN {_h(hh, 2, 100, s)} < 70 THEN 'kyosai' ELSE 'kokuho' END END")
        changer = f"(p % 16 = 0 AND {age} BETWEEN 6570 AND 27000)"  # working age: 18–73
        change_day = f"(DATE '{care.isoformat()}' + (10 + {_h('p', 7, 10, s)})::int)"
        sur, giv = f"(1 + {_h(hh, 9, len(SURNAMES), s)})", f"(1 + {_h('p', 10, len(GIVEN), s)})"
        conn.execute(text(f"""
            CREATE TEMPORARY TABLE bench_person ON COMMIT DROP AS
            SELECT p, {hh} AS hh, (p - 1) % 3 AS member, {kind} AS kind, 1 + {_h(hh, 1, 47, s)} AS pref,
                   DATE '{today.isoformat()}' - {age} AS birth, {changer} AS changer, {change_day} AS change_day,
                   (SURNAMES)[{sur}] || ' ' || (GIVEN)[{giv}] AS name, (SURNAMES_KANA)[{sur}] || ' ' || (GIVEN_KANA)[{giv}] AS kana
            FROM generate_series(1, {n}) AS p"""
            .replace("(SURNAMES)", _array([a for a, _ in SURNAMES])).replace("(SURNAMES_KANA)", _array([b for _, b in SURNAMES]))
            .replace("(GIVEN)", _array([a for a, _ in GIVEN])).replace("(GIVEN_KANA)", _array([b for _, b in GIVEN]))))
        pick = " ".join(f"WHEN '{k}' THEN {_h('b.hh', 4, c, s)}" for k, c in counts.items())
        address = (f"(PREFS)[b.pref] || (CITIES)[1 + {_h('b.hh', 11, len(CITIES), s)}] || (1 + {_h('b.hh', 12, 5, s)}) || '丁目' "
                   f"|| (1 + {_h('b.hh', 13, 30, s)}) || '-' || (1 + {_h('b.hh', 14, 20, s)})")
        address = address.replace("(PREFS)", _array(list(PREFECTURES))).replace("(CITIES)", _array(CITIES))
        columns = ("id, person_id, insurer_number, symbol, number, branch, relation, card_classification, start, \"end\", loss_reason, "
                   "income, kouki_ratio, notified, registered, name, kana, address, postcode, dv_flag")
        # Everyone's own qualification: current, or for a changer the one left on the change day.
        start = (f"CASE WHEN b.kind = 'kouki' THEN (b.birth + interval '75 years')::date "
                 f"ELSE greatest(b.birth, DATE '2000-04-01' + {_h('b.p', 5, 8000, s)}::int) END")
        kouki = "b.kind = 'kouki'"
        conn.execute(text(f"""
            INSERT INTO qualification ({columns})
            SELECT CASE WHEN b.changer THEN {n} + b.p / 16 ELSE b.p END, b.p, i.number,
                   CASE WHEN {kouki} THEN '' WHEN b.kind = 'kyokai' THEN (1000 + b.hh % 9000)::text ELSE (b.hh % 100)::text END,
                   CASE WHEN {kouki} THEN (10000000 + b.p)::text ELSE (b.hh + 1)::text END,
                   CASE WHEN {kouki} THEN '00' ELSE lpad(b.member::text, 2, '0') END,
                   CASE WHEN {kouki} OR b.member = 0 THEN 'self' ELSE 'family' END, '01', {start},
                   CASE WHEN b.changer THEN b.change_day - 1 END, CASE WHEN b.changer THEN '03' END,
                   'general', CASE WHEN {kouki} THEN 10 END, {start} + 5, {start} + 7, b.name, b.kana, {address},
                   lpad((b.pref * 10000 + b.hh % 10000)::text, 7, '0'), false
            FROM bench_person b
            JOIN bench_insurer i ON i.kind = b.kind AND i.pref = b.pref AND i.k = CASE b.kind {pick} END"""))
        # The changers' new 健保組合 (registered a week after the change; one in ten not yet).
        conn.execute(text(f"""
            INSERT INTO qualification ({columns})
            SELECT b.p, b.p, i.number, (b.hh % 100)::text, (b.hh + 1 + 50000000)::text, '00', 'self', '01', b.change_day, NULL, NULL,
                   'general', NULL, b.change_day + 3, CASE WHEN b.p % 160 <> 0 THEN b.change_day + 6 END, b.name, b.kana, {address},
                   lpad((b.pref * 10000 + b.hh % 10000)::text, 7, '0'), false
            FROM bench_person b
            JOIN bench_insurer i ON i.kind = 'kumiai' AND i.pref = b.pref AND i.k = {_h('b.p', 6, counts['kumiai'], s)}
            WHERE b.changer"""))
        say("indexes…")
        for ix in secondary:
            ix.create(conn)
        for table in ("person", "qualification"):
            conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"))
        quals = conn.execute(select(func.count()).select_from(q)).scalar_one()
        put_setting(conn, MARKER, json.dumps({"people": n, "seed": s, "care_month": care.isoformat(), "qualifications": quals}))
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE person"))
        conn.execute(text("VACUUM ANALYZE qualification"))
        conn.execute(text("ANALYZE insurer"))
    seconds = time.perf_counter() - started
    return {"people": n, "qualifications": quals, "insurers": len(insurers), "seconds": round(seconds, 1)}


def generate_claims(conn, claims: int, unknown: int, people: int, seed: int, care: dt.date, billing: dt.date) -> dict:  # noqa: ANN001
    """The month's claims in the scratch schema's `claim` (see MIX), by INSERT … SELECT."""
    s, n = seed, people
    conn.execute(text("SET LOCAL session_replication_role = replica"))
    # The changers, numbered: registered (振替, 分割) and not yet (返戻).
    conn.execute(text(f"""
        CREATE TEMPORARY TABLE bench_changer ON COMMIT DROP AS
        SELECT row_number() OVER (PARTITION BY new.registered IS NOT NULL ORDER BY old.id) - 1 AS idx, new.registered IS NOT NULL AS registered,
               old.id AS old_id, extract(day FROM new.start)::int AS change
        FROM public.qualification old JOIN public.qualification new ON new.id = (old.id - {n}) * 16
        WHERE old.id > {n}"""))
    conn.execute(text("CREATE INDEX ON bench_changer (registered, idx)"))
    ready = dict(conn.execute(text("SELECT registered, count(*) FROM bench_changer GROUP BY registered")).all())
    days_in_month = ((care + dt.timedelta(days=32)).replace(day=1) - care).days
    out: dict[str, int] = {}
    first = 1
    regular = claims - unknown
    shares = [(name, regular * per // 1000) for name, per in MIX]
    shares[0] = ("unchanged", regular - sum(c for _, c in shares[1:]))
    fac = _h("s.i", 20, FACILITIES, s)
    facility = f"lpad((1 + {fac} % 47)::text, 2, '0') || '1' || lpad({fac}::text, 7, '0')"
    for name, count in shares:
        last = first + count - 1
        if count <= 0:
            continue
        nth = _h("i", 21, 3, s)  # 1–3 care days, every other day
        if name in ("unchanged", "mistyped"):
            p = f"(1 + {_h('i', 11, n, s)})"
            source = f"SELECT i, CASE WHEN {p} % 16 = 0 THEN {p} - 1 ELSE {p} END AS qid, 1 + {_h('i', 12, days_in_month - 6, s)} AS d0, 1 + {nth} AS n, 0 AS d2"
            source += f" FROM generate_series({first}, {last}) AS i"
        else:
            which = "true" if name in ("rerouted", "split") else "false"
            size = ready.get(name in ("rerouted", "split"), 0)
            if not size:
                continue
            if name == "split":  # a day before the change and one on or after it
                days = f"c.change - 1 - {_h('i', 16, 5, s)} AS d0, 2 AS n, c.change + {_h('i', 17, 5, s)} AS d2"
            else:  # every care day on or after the change
                days = f"c.change + {_h('i', 15, 3, s)} AS d0, 1 + {nth} AS n, 0 AS d2"
            source = (f"SELECT i, c.old_id AS qid, {days} FROM generate_series({first}, {last}) AS i "
                      f"JOIN bench_changer c ON c.registered = {which} AND c.idx = {_h('i', 14, size, s)}")
        mask = "CASE WHEN s.d2 > 0 THEN (1 << (s.d0 - 1)) | (1 << (s.d2 - 1)) ELSE (((1::bigint << (2 * s.n)) - 1) / 3 << (s.d0 - 1))::int END"
        last_day = "CASE WHEN s.d2 > 0 THEN s.d2 ELSE s.d0 + 2 * (s.n - 1) END"
        number = "q.number || '9'" if name == "mistyped" else "q.number"
        kouki = "(length(q.insurer_number) = 8 AND q.insurer_number LIKE '39%')"  # 法別 39; a 国保 of 高知 (39…) has 6 digits
        conn.execute(text(f"""
            INSERT INTO claim (facility_code, payer, care_month, billing_month, receipt_no, patient_ref, basis, receipt_kind, insurer_number,
                               symbol, number, branch, qualification_id, unknown, relation, name, kana, birth_date, sex, copay_percent,
                               days, days_mask, first_day, last_day, points, copay_amount, status, origin, created_at)
            SELECT {facility}, CASE WHEN length(q.insurer_number) = 6 OR {kouki} THEN '2' ELSE '1' END,
                   DATE '{care.isoformat()}', DATE '{billing.isoformat()}', s.i, 'B' || s.i, 'current',
                   CASE WHEN {kouki} THEN '1318' WHEN q.relation = 'family' THEN '1116' ELSE '1112' END,
                   q.insurer_number, q.symbol, {number}, q.branch, q.id, false, q.relation, q.name, q.kana, p.birth_date, p.sex,
                   CASE WHEN {kouki} THEN 10 ELSE 30 END, s.n, {mask}, DATE '{care.isoformat()}' + (s.d0 - 1),
                   DATE '{care.isoformat()}' + ({last_day} - 1), 291 + 75 * (s.n - 1),
                   ((291 + 75 * (s.n - 1)) * CASE WHEN {kouki} THEN 10 ELSE 30 END + 50) / 100 * 10, 'filed', 'bench', now()
            FROM ({source}) AS s
            JOIN public.qualification q ON q.id = s.qid JOIN public.person p ON p.id = q.person_id"""))
        out[name] = count
        first = last + 1
    if unknown:  # 不詳 (R-R5): remarks with the kana name and address (one in five with a wrong address)
        last = first + unknown - 1
        conn.execute(text(f"""
            INSERT INTO claim (facility_code, payer, care_month, billing_month, receipt_no, patient_ref, basis, receipt_kind, insurer_number,
                               symbol, number, branch, unknown, relation, name, kana, birth_date, sex, copay_percent, days, days_mask,
                               first_day, last_day, points, copay_amount, remarks, status, origin, created_at)
            SELECT {facility}, '1', DATE '{care.isoformat()}', DATE '{billing.isoformat()}', s.i, 'B' || s.i, 'unknown', '1112',
                   '77777777', '7777', '77777777', '', true, q.relation, q.name, q.kana, p.birth_date, p.sex, 30, 1, 1 << 9,
                   DATE '{care.isoformat()}' + 9, DATE '{care.isoformat()}' + 9, 291, 870,
                   json_build_object('kana', q.kana, 'insurance_kind', 'shaho', 'insurer_name', '不明', 'employer', '不明',
                                     'address', CASE WHEN s.i % 5 = 0 THEN '北海道札幌市中央区北1条西2丁目' ELSE q.address END,
                                     'contact_phone', '090-0000-0000', 'contact_date', '{billing.isoformat()}')::text,
                   'filed', 'bench', now()
            FROM (SELECT i, 1 + {_h('i', 30, n, s)} AS p FROM generate_series({first}, {last}) AS i) AS s
            JOIN public.qualification q ON q.id = CASE WHEN s.p % 16 = 0 THEN s.p - 1 ELSE s.p END
            JOIN public.person p ON p.id = q.person_id"""))
        rows = conn.execute(text("SELECT id, remarks FROM claim WHERE unknown")).all()
        keys = [{"cid": cid, "kana": fold_kana(json.loads(r)["kana"]) or None, "address": fold_address(json.loads(r)["address"]) or None} for cid, r in rows]
        conn.execute(text("UPDATE claim SET kana_key = :kana, address_key = :address WHERE id = :cid"), keys)  # the keys as onshi folds them
        out["unknown"] = unknown
    conn.execute(text("ANALYZE claim"))
    return out


def _backend_memory(conn) -> dict:  # noqa: ANN001
    """The PostgreSQL backend of `conn`: peak and current resident memory (kB), when it runs here."""
    pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    try:
        status = open(f"/proc/{pid}/status", encoding="ascii").read()
    except OSError:
        return {}
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return {k: int(fields[k].split()[0]) for k in ("VmHWM", "VmRSS") if k in fields}


def _temp_bytes(conn) -> int:  # noqa: ANN001
    return conn.execute(text("SELECT temp_bytes FROM pg_stat_database WHERE datname = current_database()")).scalar_one()


def run(engine: Engine, *, people: int, claims: int, unknown: int, seed: int, slices: str = "none", keep: bool = False,
        work_mem: str = review.BATCH_WORK_MEM, say=print) -> dict:  # noqa: ANN001
    if engine.dialect.name != "postgresql":
        raise RuntimeError("onshi bench review generates its data in PostgreSQL (INSERT … SELECT generate_series)")
    if slices not in SLICES:
        raise ValueError(f"slices: one of {', '.join(SLICES)}")
    today = config.today()
    billing = today.replace(day=1)
    care = (billing - dt.timedelta(days=1)).replace(day=1)
    db.migrate(engine)
    marker = get_setting(engine, MARKER)
    built: dict | None = None
    if marker is None:
        if not db.is_empty(engine):
            raise RuntimeError("this database holds a registry onshi bench review did not generate: give it an empty database of its own")
        built = build_registry(engine, people, seed, today, say)
        say(f"registry: {built['people']:,} people, {built['qualifications']:,} qualifications in {built['seconds']:.0f} s")
        marker = get_setting(engine, MARKER)
    made = json.loads(marker)
    if made["people"] != people or made["seed"] != seed or made["care_month"] != care.isoformat():
        raise RuntimeError(f"this database was generated with {made}: use it with those, or an empty database")
    work = scratch_schema(engine)
    try:
        started = time.perf_counter()
        with work.begin() as conn:
            mix = generate_claims(conn, claims, unknown, people, seed, care, billing)
        generated = time.perf_counter() - started
        say(f"generated {claims:,} claims for {care:%Y-%m} in {generated:.0f} s; the reference join…")
        with work.connect() as conn:
            size = {name: conn.execute(text(f"SELECT pg_total_relation_size('{name}')")).scalar_one()
                    for name in ("public.person", "public.qualification", f"{SCHEMA}.claim")}
        work.dispose()  # each measurement on a backend of its own (its peak memory is its own)
        reference = _reference(work, billing, work_mem)
        say(f"reference join: {reference['seconds']:.1f} s; reviewing ({slices})…")
        work.dispose()
        runs, steps = [], {}
        started = time.perf_counter()
        memory: dict = {}
        with work.connect() as conn:
            temp_before = _temp_bytes(conn)
            conn.commit()
            for payer, prefecture in _slices(slices):
                with conn.begin():
                    timings: dict = {}
                    runs.append(review.run(conn, billing, today, payer=payer, prefecture=prefecture, timings=timings, work_mem=work_mem))
                for step, seconds in timings.items():
                    steps[step] = round(steps.get(step, 0) + seconds, 2)
                for k, v in _backend_memory(conn).items():
                    memory[k] = max(memory.get(k, 0), v)
                conn.commit()
            seconds = time.perf_counter() - started
            temp = _temp_bytes(conn) - temp_before
            totals = {k: 0 for k in ("claims", "unchanged", "rerouted", "split", "returned")}
            for run_id in runs:
                summary = json.loads(conn.execute(select(schema.review_run.c.summary).where(schema.review_run.c.id == run_id)).scalar_one())
                for k in totals:
                    totals[k] += summary.get(k, 0)
    finally:
        work.dispose()
        if not keep:
            drop_scratch_schema(engine)
    rate = totals["claims"] / seconds if seconds else 0.0
    return {
        "people": people, "qualifications": made["qualifications"], "claims": totals["claims"], "generated_mix": mix,
        "care_month": f"{care:%Y-%m}", "review_date": today.isoformat(), "slices": slices, "runs": len(runs),
        "outcomes": {k: totals[k] for k in ("unchanged", "rerouted", "split", "returned")},
        "registry_built": built, "generate_seconds": round(generated, 1),
        "review_seconds": round(seconds, 1), "claims_per_second": round(rate), "steps": steps,
        "reference": reference | {"claims_per_second": round(totals["claims"] / reference["seconds"]) if reference["seconds"] else 0},
        "postgres_backend_peak_rss_mb": round(memory["VmHWM"] / 1024) if "VmHWM" in memory else None,
        "postgres_temp_spilled_mb": round(temp / 2**20),
        "python_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "work_mem": work_mem,
        "sizes_mb": {k: round(v / 2**20) for k, v in size.items()},
        "national_month_claims": NATIONAL_MONTH, "national_month_hours": round(NATIONAL_MONTH / rate / 3600, 2) if rate else None,
        "load": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def _slices(kind: str) -> list[tuple[str | None, int | None]]:
    if kind == "payer":
        return [("1", None), ("2", None)]
    if kind == "prefecture":
        return [(None, p) for p in range(1, len(PREFECTURES) + 1)]
    return [(None, None)]


def _reference(work: Engine, billing: dt.date, work_mem: str) -> dict:
    """The bare join of step 1 (claims × qualifications on the numbers, persons on the birth
    date), counted, with the review's settings: the floor of any set-based review."""
    with work.begin() as conn:
        conn.execute(text(f"SET LOCAL work_mem = '{work_mem}'"))
        conn.execute(text("SET LOCAL jit = off"))
        for setting in ("enable_nestloop", "enable_mergejoin"):
            conn.execute(text(f"SET LOCAL {setting} = off"))
        started = time.perf_counter()
        matched = conn.execute(text("""
            SELECT count(*) FROM claim c
            JOIN public.qualification q ON q.insurer_number = c.insurer_number AND q.number = c.number AND q.symbol = c.symbol
                 AND (c.branch = '' OR q.branch = c.branch)
            JOIN public.person p ON p.id = q.person_id AND p.birth_date = c.birth_date
            WHERE c.billing_month = :billing"""), {"billing": billing}).scalar_one()
        seconds = time.perf_counter() - started
    return {"what": "hash join claims × qualifications × persons, counted", "matched": matched, "seconds": round(seconds, 1)}


def print_report(report: dict) -> None:
    o = report["outcomes"]
    built = report.get("registry_built")
    if built:
        print(f"registry generated: {built['people']:,} people, {built['qualifications']:,} qualifications in {built['seconds']:.0f} s "
              f"({built['people'] / built['seconds']:,.0f} people/s)")
    print(f"review of {report['claims']:,} claims ({report['care_month']}) against {report['people']:,} people "
          f"({report['qualifications']:,} qualifications), slices: {report['slices']} ({report['runs']} run(s))")
    print(f"  変更なし {o['unchanged']:,} · 振替 {o['rerouted']:,} · 分割 {o['split']:,} · 返戻 {o['returned']:,}")
    print(f"  review {report['review_seconds']:.1f} s = {report['claims_per_second']:,} claims/s  (steps: "
          + ", ".join(f"{k} {v:.1f} s" for k, v in report["steps"].items()) + ")")
    ref = report["reference"]
    print(f"  reference, same run: {ref['what']}: {ref['seconds']:.1f} s = {ref['claims_per_second']:,} claims/s "
          f"(the review takes {report['review_seconds'] / ref['seconds']:.1f}× it)" if ref["seconds"] else "")
    print(f"  memory: PostgreSQL backend peak RSS {report['postgres_backend_peak_rss_mb']} MB (work_mem {report['work_mem']}), "
          f"spilled to disk {report['postgres_temp_spilled_mb']:,} MB; onshi process peak RSS {report['python_peak_rss_mb']} MB")
    print(f"  sizes: " + ", ".join(f"{k} {v:,} MB" for k, v in report["sizes_mb"].items()))
    print(f"  a national month of {report['national_month_claims']:,} claims at this rate: about {report['national_month_hours']:.1f} h "
          f"(load average {report['load']})")

