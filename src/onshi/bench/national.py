"""`onshi bench national`: the peak hour on one machine (issue 14 item 3).

On a seeded registry on PostgreSQL, for a bounded time, the HTTP server runs as `onshi serve`
runs it in production (uvicorn, the same app, loopback only) while, at once:

- facilities look seeded people up by card and by numbers (a share of 47.73 % by card: the
  card's share of all online verifications in 2025-12, seed 002 «オンライン資格確認の利用件数に
  占めるマイナ保険証の利用件数の割合»), at a constant arrival rate (open loop: each lookup has
  an intended send time and its latency is counted from it, so a slow answer cannot hide the
  ones queued behind it — no coordinated omission) or as fast as the connections go (`max`);
- insurers register, through the real insurer API with insurer keys, about a tenth of that:
  acquisitions (newborns joining a parent's household, after the municipality has put them on
  the resident register), losses, address changes (after the municipality recorded the move),
  income changes, and card links of the newborns;
- one background job: the issuance run of today over every insurer (`onshi issuance run`).

The default rate is the nation's peak scaled to the registry's people, times a headroom:
1,700 lookups/s at peak for about 124,000,000 people (issue 14 from the real system's
figures: 2.7億 verifications a month, peak 1,000–1,700 a second).

Writes are undone afterwards, so the registry is the same for the next run: rows with ids
above the marks taken before the run are deleted (the verification log's too, with its
append-only trigger bypassed for that one statement — BENCHMARK ONLY), the rows the writes
changed get their values back, the residents it added go, the issuance run is forgotten
(bench.issuance.undo_run) and the bench's keys are deleted. Run it when nothing else writes
to the database: rows another writer adds during the run would be deleted with the bench's.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import math
import multiprocessing as mp
import os
import random
import re
import time
from dataclasses import dataclass, field

from .. import config
from . import percentile

NATION_PEOPLE = 124_000_000
NATIONAL_PEAK = 1_700  # lookups/s
CARD_SHARE = 0.4773  # seed 002: マイナ保険証's share of online verifications, 2025-12
WRITE_SHARE = 0.1  # insurer writes per lookup (issue 14: about a tenth)
HEADROOM = 10
LABEL = "bench-national"
# The insurer writes in turn: job changes bring an acquisition and a loss, moves an address
# change; newborns get a card. No public breakdown of insurer notices by kind was found in the
# seeds: this cycle is an assumption.
WRITE_CYCLE = ("acquisition", "address_change", "loss", "acquisition", "income_change", "card_link", "acquisition", "loss",
               "address_change", "card_link")
MARKED = ("person", "qualification", "operation", "member_event", "certificate_application", "document", "document_end",
          "issuance_run", "verification")
GIVEN = (("陽翔", "ハルト"), ("結愛", "ユア"), ("蓮", "レン"), ("紬", "ツムギ"), ("湊", "ミナト"), ("陽葵", "ヒマリ"))
DRAIN = 30.0  # seconds the clients may take after the window to send and answer what was due in it


def national_rate(people: int, headroom: float = HEADROOM) -> float:
    """The nation's peak lookups/s scaled to `people`, times `headroom`."""
    return NATIONAL_PEAK * people / NATION_PEOPLE * headroom


# ---------------------------------------------------------------- the plan: what will be sent


@dataclass
class Write:
    kind: str
    path: str
    key: str
    body: bytes
    after: int | None = None  # index of the write that must be answered first (a newborn's acquisition)


@dataclass
class Plan:
    lookups: list[tuple[str, str, str, bytes]]  # (kind, path, key, body)
    writes: list[Write]
    new_residents: list[tuple]  # resident rows the bench adds (the municipality's register)
    moves: list[tuple[str, str, str]]  # (my_number_hash, old address, new address) of the resident register
    originals: list[dict]  # qualification rows the writes change, as they were
    tag: str = ""


def _lookup_items(people: list[dict], card_share: float, rng: random.Random) -> list[tuple[str, str, str, bytes]]:
    from .lookup import _bodies

    card = dict(zip((p["person_id"] for p in people), _bodies(people, "card")))
    numbers = dict(zip((p["person_id"] for p in people), _bodies(people, "numbers")))
    out = []
    for p in people:
        kind = "card" if rng.random() < card_share else "numbers"
        path, key, body = (card if kind == "card" else numbers)[p["person_id"]]
        out.append((kind, path, key, body.encode()))
    return out


def _new_my_numbers(conn, n: int, rng: random.Random) -> list[str]:  # noqa: ANN001
    """n valid 個人番号 not on the resident register."""
    from sqlalchemy import select

    from ..domain.numbers import my_number_check_digit
    from ..registry.schema import resident
    from ..registry.security import my_number_hash

    out: dict[str, str] = {}
    while len(out) < n:
        batch = {}
        for _ in range(n - len(out)):
            body = f"{rng.randrange(10**11):011d}"
            number = body + str(my_number_check_digit(body))
            batch[my_number_hash(number)] = number
        taken = set(conn.execute(select(resident.c.my_number_hash).where(resident.c.my_number_hash.in_(list(batch)))).scalars())
        out.update((h, m) for h, m in batch.items() if h not in taken)
    return list(out.values())[:n]


def _moved(address: str, rng: random.Random) -> str:
    """The same town, another house number (a move the municipality recorded)."""
    m = list(re.finditer(r"\d+", address))
    if not m:
        return address + f"{rng.randint(1, 30)}番"
    last = m[-1]
    return address[: last.start()] + str(int(last.group()) % 40 + 1 + rng.randint(0, 5)) + address[last.end():]


def make_plan(engine, people: list[dict], n_writes: int, today: dt.date, *, card_share: float, seed: int) -> Plan:  # noqa: ANN001
    """Split the sampled people (keys attached) into the lookups and the writes' members, and
    prepare every write's body; the resident register changes are applied by `apply_plan`."""
    from sqlalchemy import select, tuple_

    from ..registry.schema import insurer, person, qualification, resident

    rng = random.Random(f"bench-national:{seed}:{today.isoformat()}")
    tag = f"{rng.randrange(16**6):06x}{os.getpid() % 1000:03d}"
    kinds = [WRITE_CYCLE[i % len(WRITE_CYCLE)] for i in range(n_writes)]
    need = {k: kinds.count(k) for k in WRITE_CYCLE}
    with engine.connect() as conn:
        qids = [p["qualification_id"] for p in people]
        rows = {r["id"]: dict(r) for r in conn.execute(select(qualification).where(qualification.c.id.in_(qids))).mappings()}
        kind_of = dict(conn.execute(select(insurer.c.number, insurer.c.kind)).all())
        order = list(people)
        rng.shuffle(order)
        members = [p for p in order if rows[p["qualification_id"]]["end"] is None]
        parents = [p for p in members if p["relation"] == "self" and p["branch"] and kind_of.get(p["insurer_number"]) != "kouki"]
        chosen_parents = parents[: need["acquisition"]]
        taken = {p["person_id"] for p in chosen_parents}
        others = [p for p in members if p["person_id"] not in taken][: need["loss"] + need["address_change"] + need["income_change"]]
        taken |= {p["person_id"] for p in others}
        lookups = [p for p in people if p["person_id"] not in taken]
        if len(chosen_parents) < need["acquisition"] or len(others) < need["loss"] + need["address_change"] + need["income_change"] or not lookups:
            raise RuntimeError(f"too few sampled members for {n_writes:,} writes: sample more people (--sample)")
        # the household's branches: a newborn takes the next free one
        households = {(p["insurer_number"], p["symbol"], p["number"]) for p in chosen_parents}
        branches: dict[tuple, set] = {h: set() for h in households}
        hh = list(households)
        for i in range(0, len(hh), 1000):
            key = tuple_(qualification.c.insurer_number, qualification.c.symbol, qualification.c.number)
            for r in conn.execute(select(qualification.c.insurer_number, qualification.c.symbol, qualification.c.number, qualification.c.branch)
                                  .where(key.in_(hh[i:i + 1000]))):
                branches[(r.insurer_number, r.symbol, r.number)].add(r.branch)
        movers = others[need["loss"]: need["loss"] + need["address_change"]]
        homes = dict(conn.execute(select(person.c.id, resident.c.my_number_hash).join(resident, resident.c.my_number_hash == person.c.my_number_hash)
                                  .where(person.c.id.in_([p["person_id"] for p in movers]))).all())
        addresses = dict(conn.execute(select(resident.c.my_number_hash, resident.c.address).where(resident.c.my_number_hash.in_(list(homes.values())))).all())
        numbers = _new_my_numbers(conn, need["acquisition"], rng)

    def body(**values) -> bytes:  # noqa: ANN003
        import orjson

        return orjson.dumps({k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in values.items() if v is not None})

    def ident(p: dict) -> dict:
        return {"symbol": p["symbol"], "number": p["number"], "branch": p["branch"]}

    base = "/api/v1/insurers/{}/"
    writes: list[Write] = []
    new_residents, moves, originals = [], [], []
    acquisitions: list[tuple[int, str, dict]] = []  # (write index, 個人番号) of newborns not yet given a card
    parents_left, losses, movers_left, earners = iter(chosen_parents), iter(others[: need["loss"]]), iter(movers), iter(others[need["loss"] + need["address_change"]:])
    newborns = iter(numbers)
    for i, kind in enumerate(kinds):
        rid = f"bn-{tag}-{i}"
        if kind == "acquisition":
            p, mn = next(parents_left), next(newborns)
            row = rows[p["qualification_id"]]
            used = branches[(p["insurer_number"], p["symbol"], p["number"])]
            branch = next(f"{b:02d}" for b in range(1, 100) if f"{b:02d}" not in used)
            used.add(branch)
            born = today - dt.timedelta(days=rng.randint(7, 40))
            given, given_kana = GIVEN[rng.randrange(len(GIVEN))]
            name = f"{row['name'].split(' ')[0].split('　')[0]} {given}"
            kana = f"{row['kana'].split(' ')[0].split('　')[0]} {given_kana}"
            address = row["address"] or "東京都千代田区千代田1-1"
            sex = rng.choice((1, 2))
            from ..registry.security import my_number_hash

            new_residents.append((my_number_hash(mn), name, kana, born, sex, address))
            writes.append(Write(kind, base.format(p["insurer_number"]) + "acquisitions", p["insurer_key"], body(
                request_id=rid, my_number=mn, name=name, kana=kana, birth_date=born, sex=sex, address=address, relation="family",
                insured_name=row["name"], symbol=p["symbol"], number=p["number"], branch=branch, start=born, notified=today - dt.timedelta(days=1))))
            acquisitions.append((len(writes) - 1, mn, p))
        elif kind == "card_link":
            if not acquisitions:  # (the cycle puts an acquisition first)
                continue
            after, mn, p = acquisitions.pop(0)
            serial = f"NB{rng.randrange(16**10):010X}"
            writes.append(Write(kind, base.format(p["insurer_number"]) + "card-links", p["insurer_key"], body(
                request_id=rid, my_number=mn, serial=serial, issued=today), after=after))
        elif kind == "loss":
            p = next(losses)
            originals.append(rows[p["qualification_id"]])
            writes.append(Write(kind, base.format(p["insurer_number"]) + "losses", p["insurer_key"], body(
                request_id=rid, **ident(p), notified=today, end=today, loss_reason="03")))
        elif kind == "address_change":
            p = next(movers_left)
            originals.append(rows[p["qualification_id"]])
            home = homes[p["person_id"]]
            new = _moved(addresses[home], rng)
            moves.append((home, addresses[home], new))
            writes.append(Write(kind, base.format(p["insurer_number"]) + "changes", p["insurer_key"], body(
                request_id=rid, **ident(p), notified=today, address=new)))
        else:  # income_change
            p = next(earners)
            row = rows[p["qualification_id"]]
            originals.append(row)
            writes.append(Write(kind, base.format(p["insurer_number"]) + "changes", p["insurer_key"], body(
                request_id=rid, **ident(p), notified=today, income="general" if row["income"] == "high" else "high")))
    serials = [orjson_loads(w.body)["serial"] for w in writes if w.kind == "card_link"]
    with engine.connect() as conn:
        from ..registry.schema import card

        clash = set(conn.execute(select(card.c.serial).where(card.c.serial.in_(serials))).scalars()) if serials else set()
    if clash:
        raise RuntimeError(f"generated card serials already linked: {sorted(clash)[:3]} (run again)")
    return Plan(_lookup_items(lookups, card_share, rng), writes, new_residents, moves, originals, tag)


def orjson_loads(data: bytes) -> dict:
    import orjson

    return orjson.loads(data)


# ---------------------------------------------------------------- marks and undo


def take_marks(conn) -> dict:  # noqa: ANN001
    from sqlalchemy import text

    marks = {t: conn.execute(text(f"SELECT COALESCE(MAX(id), 0) FROM {t}")).scalar_one() for t in MARKED}
    marks["settings"] = list(conn.execute(text("SELECT name FROM setting")).scalars())  # the server may add its session secret
    return marks


def apply_plan(engine, plan: Plan) -> None:  # noqa: ANN001
    """What the municipality records before the insurers' notices: the newborns on the resident
    register, the moves of the address changes."""
    from sqlalchemy import bindparam, insert, update

    from ..registry.schema import resident

    cols = ("my_number_hash", "name", "kana", "birth_date", "sex", "address")
    with engine.begin() as conn:
        if plan.new_residents:
            conn.execute(insert(resident), [dict(zip(cols, r)) for r in plan.new_residents])
        if plan.moves:
            conn.execute(update(resident).where(resident.c.my_number_hash == bindparam("h")).values(address=bindparam("a")),
                         [{"h": h, "a": new} for h, _old, new in plan.moves])


def undo(engine, plan: Plan, marks: dict) -> dict[str, int]:  # noqa: ANN001
    """BENCHMARK ONLY: the registry as it was before the run (see the module's doc)."""
    from sqlalchemy import bindparam, delete, text, update

    from ..registry.schema import api_key, qualification, resident, setting
    from .issuance import undo_run

    counts: dict[str, int] = {}
    if marks.get("verification") is None:  # nothing was run: only the keys
        with engine.begin() as conn:
            counts["api_key"] = conn.execute(delete(api_key).where(api_key.c.label == LABEL)).rowcount
        return counts
    with engine.begin() as conn:
        runs = list(conn.execute(text("SELECT id FROM issuance_run WHERE id > :m ORDER BY id DESC"), {"m": marks["issuance_run"]}).scalars())
        for run_id in runs:
            undo_run(conn, run_id)
        counts["issuance_run"] = len(runs)
        for table in ("document_end", "document", "member_event", "certificate_application", "operation"):
            counts[table] = conn.execute(text(f"DELETE FROM {table} WHERE id > :m"), {"m": marks[table]}).rowcount
        counts["card"] = conn.execute(text("DELETE FROM card WHERE person_id > :m"), {"m": marks["person"]}).rowcount
        for table in ("qualification", "person"):
            counts[table] = conn.execute(text(f"DELETE FROM {table} WHERE id > :m"), {"m": marks[table]}).rowcount
        if plan.new_residents:
            counts["resident"] = conn.execute(delete(resident).where(resident.c.my_number_hash.in_([r[0] for r in plan.new_residents]))).rowcount
        if plan.moves:
            conn.execute(update(resident).where(resident.c.my_number_hash == bindparam("h")).values(address=bindparam("a")),
                         [{"h": h, "a": old} for h, old, _new in plan.moves])
        restored = ("end", "loss_reason", "income", "address", "postcode")
        if plan.originals:
            conn.execute(update(qualification).where(qualification.c.id == bindparam("qid")).values({c: bindparam(f"v_{c}") for c in restored}),
                         [{"qid": r["id"], **{f"v_{c}": r[c] for c in restored}} for r in plan.originals])
        counts["restored_qualification"] = len(plan.originals)
        counts["api_key"] = conn.execute(delete(api_key).where(api_key.c.label == LABEL)).rowcount
        counts["setting"] = conn.execute(delete(setting).where(setting.c.name.not_in(marks["settings"]))).rowcount
    with engine.begin() as conn:  # the log refuses DELETE (a trigger): bypassed for the bench's own rows only
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        counts["verification"] = conn.execute(text("DELETE FROM verification WHERE id > :m"), {"m": marks["verification"]}).rowcount
    return counts


# ---------------------------------------------------------------- the clients (a process of their own)


class _Conn:
    """One keep-alive HTTP/1.1 connection; responses parsed by httptools (uvicorn's parser)."""

    IDLE = 4.0  # uvicorn closes a keep-alive connection idle for 5 s: open a fresh one before that

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader = self.writer = None
        self.used = 0.0

    async def open(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.used = time.monotonic()

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        import httptools

        if self.writer is None or time.monotonic() - self.used > self.IDLE:
            await self.open()
        self.writer.write(raw)
        got = _Response()
        parser = httptools.HttpResponseParser(got)
        while not got.done:
            data = await self.reader.read(65536)
            if not data:
                self.writer = None
                raise ConnectionError("the server closed the connection")
            parser.feed_data(data)
        self.used = time.monotonic()
        return parser.get_status_code(), b"".join(got.body)


class _Response:
    def __init__(self) -> None:
        self.body: list[bytes] = []
        self.done = False

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.done = True


def _raw(path: str, key: str, body: bytes) -> bytes:
    head = (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nX-API-Key: {key}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


def _problem(status: int, body: bytes) -> str:
    try:
        doc = orjson_loads(body)
        errs = doc.get("errors") or []
        return f"HTTP {status} " + (f"{errs[0].get('field')}: {errs[0].get('reason')}" if errs else str(doc.get("detail", ""))[:80])
    except Exception:  # noqa: BLE001
        return f"HTTP {status}"


@dataclass
class _Tally:
    latencies: dict[str, list[float]] = field(default_factory=dict)  # seconds, by kind
    errors: dict[str, int] = field(default_factory=dict)
    done: int = 0
    sent: int = 0  # open loop: requests due (queued for a connection)
    first: float = math.inf
    last: float = 0.0

    def ok(self, kind: str, latency: float, now: float) -> None:
        self.latencies.setdefault(kind, []).append(latency)
        self.done += 1
        self.last = max(self.last, now)

    def error(self, what: str) -> None:
        self.errors[what] = self.errors.get(what, 0) + 1


async def _drive(base: str, plan_lookups: list, writes: list[Write], rate: float | None, write_share: float, seconds: float,
                 connections: int, write_connections: int, started) -> dict:  # noqa: ANN001
    from urllib.parse import urlparse

    u = urlparse(base)
    loop = asyncio.get_running_loop()
    lookups = [(kind, _raw(path, key, body)) for kind, path, key, body in plan_lookups]
    raw_writes = [_raw(w.path, w.key, w.body) for w in writes]
    looks, wrote = _Tally(), _Tally()
    conns = [_Conn(u.hostname, u.port) for _ in range(connections)]
    wconns = [_Conn(u.hostname, u.port) for _ in range(write_connections)]
    await asyncio.gather(*(c.open() for c in conns + wconns))
    # warm-up (not measured): keys cached by the workers, statements prepared, pages read
    for r in range(3):
        await asyncio.gather(*(c.request(lookups[(r * connections + i) % len(lookups)][1]) for i, c in enumerate(conns)))
    started.set()
    t0 = loop.time()
    deadline = t0 + seconds
    looks.first = wrote.first = t0

    async def lookup(conn: _Conn, i: int, intended: float) -> None:
        kind, raw = lookups[i % len(lookups)]
        try:
            status, body = await conn.request(raw)
        except (OSError, ConnectionError) as exc:
            looks.error(f"lookup by {kind}: {type(exc).__name__}")
            await _reopen(conn)
            return
        now = loop.time()
        if status != 200:
            looks.error(f"lookup by {kind}: {_problem(status, body)}")
        elif b'"validity":"valid"' not in body:
            looks.error(f"lookup by {kind}: answered {orjson_loads(body).get('validity')} for a valid member")
        else:
            looks.ok(kind, now - intended, now)

    events = [asyncio.Event() for _ in writes]
    succeeded = [False] * len(writes)

    async def write(conn: _Conn, i: int, intended: float) -> None:
        w = writes[i]
        try:
            if w.after is not None:
                await events[w.after].wait()
                if not succeeded[w.after]:
                    wrote.error(f"write {w.kind}: its acquisition failed")
                    return
            try:
                status, body = await conn.request(raw_writes[i])
            except (OSError, ConnectionError) as exc:
                wrote.error(f"write {w.kind}: {type(exc).__name__}")
                await _reopen(conn)
                return
            now = loop.time()
            if status != 201:
                wrote.error(f"write {w.kind}: {_problem(status, body)}")
            else:
                succeeded[i] = True
                wrote.ok(w.kind, now - intended, now)
        finally:
            events[i].set()

    async def serve(queue: asyncio.Queue, conn: _Conn, call) -> None:  # noqa: ANN001
        while (item := await queue.get()) is not None:
            await call(conn, *item)

    lq: asyncio.Queue = asyncio.Queue()
    wq: asyncio.Queue = asyncio.Queue()
    planned_writes = len(writes)
    write_rate = rate * write_share if rate else None

    async def schedule_lookups() -> None:
        i = 0
        while True:
            intended = t0 + i / rate
            if intended >= deadline:
                break
            delay = intended - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            lq.put_nowait((i, intended))
            i += 1
            looks.sent += 1
        for _ in conns:
            lq.put_nowait(None)

    async def closed_lookups(conn: _Conn, offset: int) -> None:
        i = offset
        while loop.time() < deadline:
            looks.sent += 1
            await lookup(conn, i, loop.time())
            i += connections

    async def schedule_writes() -> None:
        i = 0
        while i < planned_writes:
            if write_rate:  # open loop at a tenth of the asked rate
                intended = t0 + i / write_rate
                if intended >= deadline:
                    break
                delay = intended - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            else:  # closed-loop lookups: keep the writes at a tenth of what was answered
                if loop.time() >= deadline:
                    break
                if i >= looks.done * write_share:
                    await asyncio.sleep(0.005)
                    continue
                intended = loop.time()
            wq.put_nowait((i, intended))
            i += 1
            wrote.sent += 1
        for _ in wconns:
            wq.put_nowait(None)

    tasks = [schedule_writes(), *(serve(wq, c, write) for c in wconns)]
    if rate:
        tasks += [schedule_lookups(), *(serve(lq, c, lookup) for c in conns)]
    else:
        tasks += [closed_lookups(c, i) for i, c in enumerate(conns)]
    try:
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=seconds + DRAIN)
    except asyncio.TimeoutError:  # the server fell behind: what was due in the window and not answered by now
        for t, what in ((looks, "lookups"), (wrote, "writes")):
            late = t.sent - t.done - sum(t.errors.values())
            if late > 0:
                t.errors[f"{what} unanswered {DRAIN:.0f} s after the window"] = late
    for c in conns + wconns:
        if c.writer is not None:
            c.writer.close()
    return {"lookups": _summary(looks, t0), "writes": _summary(wrote, t0), "writes_planned": planned_writes}


async def _reopen(conn: _Conn) -> None:
    try:
        await conn.open()
    except OSError:
        conn.writer = None


def _summary(t: _Tally, t0: float) -> dict:
    every = sorted(x * 1000 for v in t.latencies.values() for x in v)
    span = max(t.last - t0, 1e-9) if t.done else 0.0

    def pct(ms: list[float], q: float) -> float | None:
        value = percentile(ms, q / 100)
        return None if value is None else round(value, 2)

    return {
        "due": t.sent, "answered": t.done, "seconds": round(span, 2), "per_second": round(t.done / span, 1) if span else 0.0,
        "p50_ms": pct(every, 50), "p99_ms": pct(every, 99), "p999_ms": pct(every, 99.9), "max_ms": round(every[-1], 2) if every else None,
        "by_kind": {k: {"answered": len(v), "p50_ms": pct(sorted(x * 1000 for x in v), 50), "p99_ms": pct(sorted(x * 1000 for x in v), 99)}
                    for k, v in sorted(t.latencies.items())},
        "errors": dict(sorted(t.errors.items())),
    }


def _client(args: tuple) -> dict:
    base, lookups, writes, rate, write_share, seconds, connections, write_connections, started = args
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:  # pragma: no cover
        runner = asyncio.run
    return runner(_drive(base, lookups, writes, rate, write_share, seconds, connections, write_connections, started))


# ---------------------------------------------------------------- the background job (a process of its own)


JOB = "issuance run, every insurer"


def _job(url: str, day: str, out) -> None:  # noqa: ANN001
    """Today's issuance run; its figures (or its error) put on `out`."""
    try:
        from ..issuance.run import run_issuance
        from ..registry.db import make_engine

        engine = make_engine(url, pool_size=2)
        began = time.perf_counter()
        result = run_issuance(engine, dt.date.fromisoformat(day), origin="bench")
        engine.dispose()
        out.put({"kind": JOB, "day": day, "run_id": result.id, "status": result.status,
                 "seconds": round(time.perf_counter() - began, 2), "candidates": result.candidates,
                 "documents": sum(result.tally.documents.values()), "sent": result.tally.sent})
    except BaseException as exc:  # noqa: BLE001
        out.put({"error": f"{type(exc).__name__}: {exc}"})


def _stopped_job(engine, mark: int, day: str, seconds: float) -> dict:  # noqa: ANN001
    """What a job stopped at its time limit had done (the batches it committed)."""
    import json

    from sqlalchemy import text

    with engine.connect() as conn:
        row = conn.execute(text("SELECT id, candidates, summary FROM issuance_run WHERE id > :m ORDER BY id LIMIT 1"), {"m": mark}).first()
    summary = json.loads(row.summary or "{}") if row else {}
    return {"kind": JOB, "day": day, "run_id": row.id if row else None, "status": f"stopped after {seconds:.0f} s (--job-timeout)",
            "seconds": round(seconds, 2), "candidates": row.candidates if row else None, "decided_so_far": summary.get("members", 0),
            "documents": sum((summary.get("documents") or {}).values()), "sent": summary.get("sent", 0)}


# ---------------------------------------------------------------- driver


def _rss_mb(pid: int) -> float:
    """Resident memory of a process and its children (the uvicorn workers), MB."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            with open(f"/proc/{p}/status") as f:
                total += next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
            with open(f"/proc/{p}/task/{p}/children") as f:
                todo += [int(c) for c in f.read().split()]
        except (OSError, StopIteration):
            continue
    return round(total / 1024, 1)


def sizes(conn) -> dict:  # noqa: ANN001
    from sqlalchemy import text

    out = {"database": conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()}
    for t in ("person", "qualification", "card", "resident", "document", "member_event", "verification"):
        out[t] = conn.execute(text(f"SELECT pg_total_relation_size('{t}')")).scalar_one()
    out["shared_buffers"] = conn.execute(text("SHOW shared_buffers")).scalar_one()
    return out


def run(
    url: str,
    *,
    seconds: float = 60,
    rate: float | str | None = None,
    headroom: float = HEADROOM,
    card_share: float = CARD_SHARE,
    write_share: float = WRITE_SHARE,
    connections: int = 32,
    write_connections: int = 16,
    workers: int | None = None,
    sample: int = 2000,
    seed: int = 1,
    job: bool = True,
    pgbench: bool = True,
    pgbench_seconds: float = 10,
    max_write_rate: float = 300,
    job_timeout: float = 60,
    say=lambda _m: None,  # noqa: ANN001
) -> dict:
    """Run the mixed load; the report (see print_report). `rate`: lookups/s, "max" (closed
    loop), or None for the national peak scaled to the registry × `headroom`."""
    from concurrent.futures import ProcessPoolExecutor

    from sqlalchemy import func, select, text

    from ..registry import schema
    from ..registry.db import make_engine
    from ..registry.keys import attach_keys
    from ..registry.seed import sample_people
    from .lookup import _load, make_url_safe, pgbench_select, start_server

    engine = make_engine(url)
    if engine.dialect.name != "postgresql":
        raise RuntimeError("bench national runs on PostgreSQL (the production database): pass --database postgresql://…")
    today = config.today()
    cores = os.cpu_count() or 1
    workers = workers or max(1, cores // 2)  # README, Production: one per core the database leaves free
    with engine.connect() as conn:
        population = conn.execute(select(func.count()).select_from(schema.person)).scalar_one()
        before = sizes(conn)
    if not population:
        raise RuntimeError("the registry is empty: seed it first (onshi seed --people N)")
    scaled = national_rate(population, 1)
    closed = rate == "max"
    asked = None if closed else float(rate) if rate is not None else scaled * headroom
    write_rate = (asked * write_share) if asked else max_write_rate
    n_writes = int(math.ceil(write_rate * seconds)) + len(WRITE_CYCLE)
    say(f"{population:,} people; lookups {'as fast as they go' if closed else f'at {asked:,.1f}/s'}, writes {'≈ a tenth' if closed else f'at {write_rate:,.1f}/s'}")
    members_needed = math.ceil(n_writes * 0.9)
    people = sample_people(engine, sample + members_needed * 3, seed=seed, today=today)
    say(f"sampled {len(people):,} people")
    attach_keys(engine, people, LABEL)
    try:
        plan = make_plan(engine, people, n_writes, today, card_share=card_share, seed=seed)
    except BaseException:
        undo(engine, Plan([], [], [], [], []), {t: None for t in MARKED})  # only the keys
        raise
    with engine.connect() as conn:
        marks = take_marks(conn)
    report: dict = {
        "database": make_url_safe(url), "people": population, "cores": cores, "today": today.isoformat(),
        "at": dt.datetime.now(config.JST).isoformat(timespec="seconds"), "seconds": seconds,
        "asked": {"mode": "max (closed loop)" if closed else "rate (open loop)", "lookups_per_second": asked,
                  "national_peak_scaled": round(scaled, 2), "headroom": None if closed or rate is not None else headroom,
                  "card_share": card_share, "writes_per_lookup": write_share, "connections": connections, "write_connections": write_connections,
                  "server_workers": workers, "distinct_people_looked_up": len(plan.lookups), "writes_planned": len(plan.writes)},
        "database_size": {"bytes": before["database"], "per_million_people_bytes": round(before["database"] * 1_000_000 / population),
                          "tables_bytes": {k: v for k, v in before.items() if k not in ("database", "shared_buffers")},
                          "shared_buffers": before["shared_buffers"]},
    }
    apply_plan(engine, plan)
    proc = None
    try:
        proc, base = start_server(url, workers)
        say("server started")
        ctx = mp.get_context("spawn")
        with ctx.Manager() as manager, ProcessPoolExecutor(1, mp_context=ctx) as clients:
            started = manager.Event()
            load = clients.submit(_client, (base, plan.lookups, plan.writes, None if closed else asked, write_share, seconds, connections,
                                            write_connections, started))
            while not started.wait(0.2):
                if load.done():
                    load.result()  # raises the client's error
            say("load started")
            t_job = time.perf_counter()
            if job:
                job_out = ctx.Queue()
                job_proc = ctx.Process(target=_job, args=(url, today.isoformat(), job_out), daemon=True)
                job_proc.start()
            result = load.result()
            rss = _rss_mb(proc.pid)
            with engine.connect() as conn:
                grown = sizes(conn)
                logged = conn.execute(text("SELECT count(*) FROM verification WHERE id > :m"), {"m": marks["verification"]}).scalar_one()
            load_done = time.perf_counter() - t_job
            if job:
                import queue

                try:
                    report["job"] = job_out.get(timeout=max(1.0, seconds + job_timeout - load_done))
                except queue.Empty:
                    job_proc.kill()
                    report["job"] = _stopped_job(engine, marks["issuance_run"], today.isoformat(), time.perf_counter() - t_job)
                job_proc.join(30)
                if "error" in report["job"]:
                    raise RuntimeError(f"the issuance run failed: {report['job']['error']}")
                report["job"]["finished_within_load"] = report["job"]["seconds"] <= load_done
        report["lookups"] = result["lookups"]
        report["writes"] = result["writes"]
        report["server_rss_mb"] = rss
        # what the run added, per lookup (the log) and per write (the rest): the log's cost at scale
        report["database_size"]["verification_bytes_per_lookup"] = round((grown["verification"] - before["verification"]) / logged) if logged else None
        report["database_size"]["growth_bytes"] = grown["database"] - before["database"]
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=30)
        say("undoing the writes")
        report["undone"] = undo(engine, plan, marks)
    errors = {**report.get("lookups", {}).get("errors", {}), **report.get("writes", {}).get("errors", {})}
    report["errors"] = errors
    if pgbench:
        fig = pgbench_select(url, pgbench_seconds, clients=connections, threads=max(1, cores // 2))
        report["pgbench"] = None if fig is None else {"name": fig.name, "transactions": fig.requests, "tps": fig.per_second, "latency_avg_ms": fig.p50_ms}
    report["load"] = _load()
    engine.dispose()
    return report


def print_report(report: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    a = report["asked"]
    console.print(f"[bold]national mix[/bold] — {report['people']:,} people, {report['database']}, {report['cores']} cores, "
                  f"{report['seconds']:g} s, {a['server_workers']} uvicorn worker(s), {a['connections']} lookup + {a['write_connections']} write connections")
    scaled = a["national_peak_scaled"]
    console.print(f"asked: {a['mode']}" + (f", {a['lookups_per_second']:,.1f} lookups/s" if a["lookups_per_second"] else "")
                  + f" (the nation's peak scaled to these people: {scaled:,.1f}/s" + (f", × {a['headroom']:g}" if a.get("headroom") else "") + ")"
                  + f"; {a['card_share']:.0%} by card; writes {a['writes_per_lookup']:g} per lookup")
    table = Table()
    for col in ("what", "answered", "per second", "p50 ms", "p99 ms", "p99.9 ms", "max ms"):
        table.add_column(col, justify="left" if col == "what" else "right")

    def row(name: str, s: dict) -> None:
        table.add_row(name, f"{s['answered']:,}", f"{s['per_second']:,.1f}", *(("" if s.get(k) is None else f"{s[k]:,.2f}") for k in ("p50_ms", "p99_ms", "p999_ms", "max_ms")))

    for what in ("lookups", "writes"):
        if what in report:
            row(what, report[what])
            for kind, s in report[what]["by_kind"].items():
                table.add_row(f"  {kind}", f"{s['answered']:,}", "", f"{s['p50_ms']:,.2f}", f"{s['p99_ms']:,.2f}", "", "")
    console.print(table)
    if report.get("lookups") and a["lookups_per_second"]:
        console.print(f"lookups/s achieved {report['lookups']['per_second']:,.1f} of {a['lookups_per_second']:,.1f} asked "
                      f"({report['lookups']['per_second'] / a['lookups_per_second']:.0%})")
    if report.get("job"):
        j = report["job"]
        if "decided_so_far" in j:
            console.print(f"job: {j['kind']} of {j['day']}: {j['status']}: {j['decided_so_far']:,} of {j['candidates'] or 0:,} candidates decided, "
                          f"{j['documents']:,} documents")
        else:
            console.print(f"job: {j['kind']} of {j['day']}: {j['seconds']:,.1f} s, {j['candidates']:,} members decided, {j['documents']:,} documents"
                          + ("" if j["finished_within_load"] else " (it outlasted the load)"))
    size = report["database_size"]
    console.print(f"database: {size['bytes'] / 1e9:,.2f} GB, {size['per_million_people_bytes'] / 1e9:,.2f} GB per million people "
                  f"(shared_buffers {size['shared_buffers']}); server RSS {report.get('server_rss_mb', 0):,.0f} MB"
                  + (f"; the log grew {size['verification_bytes_per_lookup']:,} bytes per lookup" if size.get("verification_bytes_per_lookup") else ""))
    if report.get("pgbench"):
        pg = report["pgbench"]
        ratio = f" — the lookups achieved {report['lookups']['per_second'] / pg['tps']:.1%} of it" if report.get("lookups") else ""
        console.print(f"{pg['name']}: {pg['tps']:,.0f} tps on the same server{ratio}")
    if report["errors"]:
        console.print("[red]errors:[/red]")
        for what, n in report["errors"].items():
            console.print(f"  {n:,} × {what}")
    else:
        console.print("errors: none")
    console.print(f"undone: {', '.join(f'{k} {v:,}' for k, v in report['undone'].items() if v)}")
    if report.get("load"):
        console.print(f"load average at the end of the run: {report['load']} ({report['cores']} cores)")
