"""The lookup hot path on the server's event loop (PostgreSQL): no thread per lookup.

A uvicorn worker answers lookups on its asyncio loop. The lookups that arrive in one turn of
the loop are fetched together (`_Batcher`): one prepared statement of `store.py` for all of
them (at most `batch` a statement, so that PostgreSQL runs several on its cores), on a few
psycopg async connections in autocommit; the rows go back to each lookup, whose evaluation
is `lookup.py`'s as everywhere. Their verification-log entries are group-committed by the
same loop: the entries of a turn form a group, committed as soon as a log connection is free
(`log_streams`, one by default; the entries arriving meanwhile form the next group) by a
single INSERT … SELECT from one JSON parameter in autocommit — one round trip and one WAL flush for the
group. A lookup answers only once its entry is committed, as with the thread writer of
`audit.py` (issue 10 item 6); if its group cannot be committed within `wait` seconds the
lookup is refused (LogUnavailable, 503).

Why (`onshi bench lookup`, README Benchmarks): a worker thread per lookup cost three
hand-overs of the GIL (to the thread, to the log writer, back to the loop), each up to the
interpreter's 5 ms switch interval under load, and a statement and a round trip per lookup;
on the loop a lookup costs no hand-over, and concurrent lookups share statements and
commits.

The objects here belong to the loop that made them (`Registry.start_async`, run by the
application's lifespan); a lookup on any other loop or thread takes the threaded path.
"""

from __future__ import annotations

import asyncio
import collections
from typing import Any

import orjson
import psycopg
from sqlalchemy import Engine

from .audit import LogUnavailable, Verification
from .schema import verification
from .store import Reader, _Compiled, card_found, matched_records, variant_tag

# The verification log's columns (all but the id), inserted from one JSON array of the group's entries.
LOG_COLUMNS = [c for c in verification.columns if c.name != "id"]


def log_insert_sql(engine: Engine) -> str:
    """One INSERT of a whole group from one JSON parameter (one round trip): the entries made
    into rows of the log's own type by PostgreSQL (json_populate_recordset). The JSON is
    orjson's, in C; before, one array per column was built by psycopg's array dumpers in Python,
    about 5 % of the worker's time per lookup (py-spy, README Benchmarks)."""
    names = ", ".join(engine.dialect.identifier_preparer.quote(c.name) for c in LOG_COLUMNS)
    return f"INSERT INTO verification ({names}) SELECT {names} FROM json_populate_recordset(NULL::verification, %s::json)"


# The batches' statements always run on their generic plan (index probes in nested loops,
# whatever the arrays hold). Left to choose (plan_cache_mode = auto), PostgreSQL 15 planned
# the number inquiries' batches afresh on every execution — a five-way join, planned in about
# as long as it runs: 132 µs of the server's CPU per lookup by numbers instead of 67, and
# 3,970 lookups/s over HTTP instead of 6,589 (`perf` on the backends; README Benchmarks).
GENERIC_PLANS = "-c plan_cache_mode=force_generic_plan"


class _Group:
    """Entries committed together, and a future per lookup waiting on them (its result: None,
    or the exception that kept the group from being committed). A future each, not one
    shared: a lookup cancelled while it waits cancels only its own."""

    __slots__ = ("rows", "waiters")

    def __init__(self) -> None:
        self.rows: list[dict] = []
        self.waiters: list[asyncio.Future] = []


class _Batcher:
    """The requests of one turn of the loop, answered by one statement: `submit` queues an
    item, and at the end of the turn `fetch` gets the results of all queued items (a list in
    their order) on one connection. Under load a worker's concurrent lookups share round
    trips, statements and plans as their log entries share commits; alone, a lookup waits
    for nothing more than its own query."""

    def __init__(self, loop: asyncio.AbstractEventLoop, fetch, most: int):  # noqa: ANN001
        self.loop, self.fetch, self.most = loop, fetch, most
        self.items: list = []
        self.waiters: list[asyncio.Future] = []

    def submit(self, item) -> asyncio.Future:  # noqa: ANN001
        waiter = self.loop.create_future()
        if not self.items:
            self.loop.call_soon(self._flush)
        self.items.append(item)
        self.waiters.append(waiter)
        if len(self.items) >= self.most:  # a full batch goes now: PostgreSQL runs a statement on one core
            self._flush()
        return waiter

    def _flush(self) -> None:
        if not self.items:
            return
        items, waiters, self.items, self.waiters = self.items, self.waiters, [], []
        self.loop.create_task(self._answer(items, waiters))

    async def _answer(self, items: list, waiters: list[asyncio.Future]) -> None:
        try:
            results = await self.fetch(items)
        except BaseException as exc:  # noqa: BLE001 - every lookup of the batch gets the failure
            for waiter in waiters:
                if not waiter.done():
                    waiter.set_exception(exc)
            if isinstance(exc, asyncio.CancelledError):
                raise
            return
        for waiter, result in zip(waiters, results):
            if not waiter.done():
                waiter.set_result(result)


class AsyncLookups:
    """The rows of lookups and the verification log, on the running event loop."""

    def __init__(self, engine: Engine, reader: Reader, *, size: int = 8, batch: int = 16, log_streams: int = 1, wait: float = 30.0):
        self.loop = asyncio.get_running_loop()
        self.reader = reader  # the compiled statements (the same as the threaded path's)
        self.size, self.wait = size, wait
        args, kwargs = engine.dialect.create_connect_args(engine.url)
        options = " ".join(filter(None, (kwargs.get("options"), GENERIC_PLANS)))  # the URL's own options kept
        self._connect_args = (args, {**kwargs, "autocommit": True, "options": options})
        self._idle: list[tuple[Any, Any]] = []  # (connection, its cursor), most recently used last
        self._open = 0
        self._waiters: collections.deque[asyncio.Future] = collections.deque()
        self._insert = log_insert_sql(engine)
        self._group = _Group()  # the entries waiting for a log connection
        self._log_free: list = [None] * log_streams  # free log connections (None: to be opened)
        self._committing = 0
        self._drained = asyncio.Event()
        self._closing = False
        self._cards = _Batcher(self.loop, self._card_rows, batch)
        self._numbers = _Batcher(self.loop, self._number_rows, batch)
        self._keys = _Batcher(self.loop, self._key_rows, batch)

    # ------------------------------------------------------------ connections

    async def _connect(self):  # noqa: ANN202
        args, kwargs = self._connect_args
        return await psycopg.AsyncConnection.connect(*args, **kwargs)

    async def _take(self) -> tuple[Any, Any]:
        while True:
            if self._idle:
                return self._idle.pop()
            if self._open < self.size:
                self._open += 1
                try:
                    conn = await self._connect()
                except BaseException:
                    self._open -= 1
                    self._hand_over(None)
                    raise
                return conn, conn.cursor(binary=True)
            waiter = self.loop.create_future()
            self._waiters.append(waiter)
            try:
                async with asyncio.timeout(self.wait):
                    got = await waiter
            except BaseException as exc:
                if waiter.done() and not waiter.cancelled() and waiter.result() is not None:
                    self._hand_over(waiter.result())  # handed to us as we gave up: to the next one
                if isinstance(exc, TimeoutError):
                    raise TimeoutError(f"no registry connection free within {self.wait:.0f} s") from None
                raise
            if got is not None:
                return got
            # None: a place was freed (a broken connection closed); open one in it

    def _hand_over(self, pair: tuple[Any, Any] | None) -> None:
        """A connection (or, None, the room for one) to the first waiter, else to the idle ones."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(pair)
                return
        if pair is not None:
            self._idle.append(pair)

    async def _run(self, statement: _Compiled, params: dict) -> list:
        pair = await self._take()
        try:
            cur = pair[1]
            await cur.execute(statement.binary_sql, params, prepare=True)  # arrays dumped in binary
            rows = await cur.fetchall()
        except BaseException:
            self._open -= 1  # a failed connection is not reused
            try:
                await pair[0].close()
            except Exception:  # noqa: BLE001 - closing a broken connection may fail in any way
                pass
            self._hand_over(None)
            raise
        self._hand_over(pair)
        return rows

    # ------------------------------------------------------------ the rows of a lookup (store.SqlSource's, batched)

    async def by_card(self, serial: str):  # noqa: ANN201
        return await self._cards.submit(serial)

    async def by_numbers(self, insurer_number: str, symbol: str | None, number: str, branch: str | None, birth_date):  # noqa: ANN001, ANN201
        return await self._numbers.submit((insurer_number, symbol, number, branch, birth_date))

    async def insurer_exists(self, insurer_number: str) -> bool:  # only after a number inquiry found nobody: not batched
        return bool(await self._run(self.reader.insurer, {"insurer": insurer_number}))

    async def key_row(self, digest: str) -> tuple | None:
        return await self._keys.submit(digest)

    async def _card_rows(self, serials: list[str]) -> list:
        found: dict[str, list] = {}
        for row in await self._run(self.reader.card_batch, {"serials": list(set(serials))}):
            found.setdefault(row[0], []).append(row)
        return [card_found(found.get(serial, [])) for serial in serials]

    async def _number_rows(self, inquiries: list[tuple]) -> list:
        # One statement for the batch: each variant of the inquiry (with or without 記号 / 枝番)
        # over its own arrays, so that each compares the index's columns (store.numbers_batch).
        by_variant: dict[tuple[bool, bool], list] = {}
        for place, inquiry in enumerate(inquiries, start=1):
            by_variant.setdefault((inquiry[1] is not None, inquiry[3] is not None), []).append((place, inquiry))
        variants = tuple(sorted(by_variant))
        params: dict = {}
        for variant in variants:
            tag = variant_tag(variant)
            places, batch = zip(*by_variant[variant])
            insurers, symbols, numbers, branches, births = zip(*batch)
            params |= {f"ords_{tag}": list(places), f"insurers_{tag}": list(insurers), f"numbers_{tag}": list(numbers), f"births_{tag}": list(births)}
            if variant[0]:
                params[f"symbols_{tag}"] = list(symbols)
            if variant[1]:
                params[f"branches_{tag}"] = list(branches)
        found: dict[int, list] = {}
        for row in await self._run(self.reader.numbers_batch(variants), params):
            found.setdefault(row[0], []).append(row)
        return [matched_records(found.get(i, []), start=1) for i in range(1, len(inquiries) + 1)]

    async def _key_rows(self, digests: list[str]) -> list:
        found = {row[0]: tuple(row[1:]) for row in await self._run(self.reader.key_batch, {"digests": list(set(digests))})}
        return [found.get(digest) for digest in digests]

    # ------------------------------------------------------------ the verification log (group commit)

    async def record(self, entry: Verification) -> None:
        """Log one lookup; returns once its entry is committed (raises LogUnavailable if not)."""
        if self._closing:
            raise LogUnavailable("verification", "the server is stopping: the lookup is not answered")
        group = self._group
        if not group.rows:
            self.loop.call_soon(self._commit_next)  # at the end of this turn of the loop: the group holds its lookups
        group.rows.append(entry.__dict__)
        waiter = self.loop.create_future()
        group.waiters.append(waiter)
        error = await waiter
        if error is not None:
            raise LogUnavailable("verification", "the verification log could not be written: the lookup is not answered")

    def _commit_next(self) -> None:
        """Commit the open group on a free log connection; with none free it grows until one is."""
        if self._group.rows and self._log_free:
            group, self._group = self._group, _Group()
            self._committing += 1
            self.loop.create_task(self._commit_group(group, self._log_free.pop()))

    async def _commit_group(self, group: _Group, conn) -> None:  # noqa: ANN001
        error: BaseException | None = None
        try:
            async with asyncio.timeout(self.wait):
                if conn is None:
                    conn = await self._connect()
                await conn.execute(self._insert, [orjson.dumps(group.rows).decode()], prepare=True)  # autocommit: committed when it returns
        except Exception as exc:  # noqa: BLE001 - any failure refuses the waiting lookups (503); the log goes on
            error = exc
            if conn is not None:
                try:
                    await conn.close()
                except Exception:  # noqa: BLE001
                    pass
            conn = None  # opened again for the next group
        finally:
            self._log_free.append(conn)
            self._committing -= 1
        for waiter in group.waiters:
            if not waiter.done():
                waiter.set_result(error)
        self._commit_next()  # what arrived meanwhile
        if not self._committing and not self._group.rows:
            self._drained.set()

    # ------------------------------------------------------------ shutdown

    async def close(self) -> None:
        """Commit what is waiting, then close every connection."""
        self._closing = True
        if self._committing or self._group.rows:
            self._drained.clear()
            self._commit_next()
            try:
                await asyncio.wait_for(self._drained.wait(), self.wait)
            except Exception:  # noqa: BLE001 - stopping: nothing more to answer
                pass
        for conn in [*self._log_free, *(c for c, _cur in self._idle)]:
            if conn is not None:
                try:
                    await conn.close()
                except Exception:  # noqa: BLE001
                    pass
        self._idle.clear()
        self._log_free = []
