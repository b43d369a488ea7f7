"""The lookup endpoints without FastAPI's per-request machinery.

Lookups are the national hot path (about 1,000–1,700 a second at peak). The FastAPI routes
(which document them in OpenAPI), `FastLookups`, a thin ASGI layer in front of the app, and
the server's protocol (protocol.py, before the ASGI layers) all answer through `answer`, so
the ways in cannot drift apart: same validation, same errors, same body. `lookup_response`
runs in a worker thread: it waits for the commit of its verification-log entry (group
commit) before the answer goes out. On PostgreSQL, once the application's lifespan has
started the registry's event-loop path, `answer` uses `lookup_response_async` instead: the
same checks (`_arguments`), evaluation and log entry, with the query and the group commit
awaited on the loop (registry/aio.py).
"""

from __future__ import annotations

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from ...domain.errors import Forbidden, InputError
from ...registry.models import validation_errors
from ...registry.service import Principal, Registry, parse_number_query
from ..common.keys import api_key
from ..common.problems import error_response, status_headers
from ..common.requests import CardLookup, NumberLookup

API = "/api/v1"
MAX_BODY = 16 * 1024
JSON = b"application/json"


def lookup_response(registry: Registry, kind: str, key: str | None, body: bytes) -> tuple[int, bytes, bytes]:
    """(status, content type, body) of a lookup request, in a worker thread. kind: card | numbers."""
    try:
        args, kwargs = _arguments(registry.authenticate(key), kind, body)
        lookup = registry.lookup_by_card if kind == "card" else registry.lookup_by_numbers
        return 200, JSON, lookup(*args, **kwargs).to_json()
    except Exception as exc:  # noqa: BLE001 - error_response answers 4xx/503 and re-raises the rest
        return error_response(exc)


async def lookup_response_async(registry: Registry, kind: str, key: str | None, body: bytes) -> tuple[int, bytes, bytes]:
    """`lookup_response` on the server's event loop (Registry.start_async: PostgreSQL)."""
    try:
        args, kwargs = _arguments(await registry.authenticate_async(key), kind, body)
        lookup = registry.lookup_by_card_async if kind == "card" else registry.lookup_by_numbers_async
        return 200, JSON, (await lookup(*args, **kwargs)).to_json()
    except Exception as exc:  # noqa: BLE001 - error_response answers 4xx/503 and re-raises the rest
        return error_response(exc)


def _arguments(who: Principal, kind: str, body: bytes) -> tuple[tuple, dict]:
    """The arguments of the registry's lookup once the key and the body are checked."""
    if who.role != "facility":
        raise Forbidden("X-API-Key", "lookups need a facility key")
    if len(body) > MAX_BODY:
        raise InputError("body", f"is larger than {MAX_BODY // 1024} KiB")
    try:
        request = (CardLookup if kind == "card" else NumberLookup).model_validate_json(body or b"null")
    except ValidationError as exc:
        raise validation_errors(exc) from None
    if kind == "card":
        return (who.subject, request.card_serial), {
            "identity": request.identity, "day": request.date, "limit_consent": request.limit_consent, "method": request.method}
    query = parse_number_query(request.insurer_number, request.symbol, request.number, request.branch, request.birth_date)
    return (who.subject, query), {"day": request.date, "limit_consent": request.limit_consent}


async def answer(registry: Registry, kind: str, key: str | None, body: bytes) -> tuple[int, bytes, bytes]:
    """A lookup request answered from the event loop, by either path."""
    if registry.async_here():  # on the loop: the rows and the log's group commit awaited (registry/aio.py)
        return await lookup_response_async(registry, kind, key, body)
    # off the event loop: the query, and the wait for the verification log's commit (audit.py)
    return await run_in_threadpool(lookup_response, registry, kind, key, body)


ROUTES = {f"{API}/lookups/card": "card", f"{API}/lookups/numbers": "numbers"}


async def read_body(receive) -> bytes | None:  # noqa: ANN001
    """A lookup's body from an ASGI `receive` (None: the client went away). Past MAX_BODY the
    rest is read and dropped, and a body of MAX_BODY + 1 bytes stands for it (refused by
    `_arguments`)."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunk = message.get("body", b"")
        size += len(chunk)
        if size <= MAX_BODY:
            chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks) if size <= MAX_BODY else b"x" * (MAX_BODY + 1)


def key_of(raw_headers) -> str | None:  # noqa: ANN001
    """The API key of a request from its ASGI headers (X-API-Key, or Authorization: Bearer)."""
    return api_key({k.decode("latin-1").lower(): v.decode("latin-1") for k, v in raw_headers if k.lower() in (b"x-api-key", b"authorization")})


class FastLookups:
    """ASGI: answers POST /api/v1/lookups/{card,numbers} directly, passes the rest on.

    Under `onshi serve` the server's protocol (protocol.py) answers these two routes before
    the ASGI layers, with the registry it finds here (`registry`)."""

    def __init__(self, app, registry: Registry):  # noqa: ANN001
        self.app = app
        self.registry = registry

    async def __call__(self, scope, receive, send):  # noqa: ANN001
        kind = ROUTES.get(scope.get("path", "")) if scope["type"] == "http" and scope.get("method") == "POST" else None
        if kind is None:
            await self.app(scope, receive, send)
            return
        body = await read_body(receive)
        if body is None:
            return
        status, ctype, payload = await answer(self.registry, kind, key_of(scope["headers"]), body)
        extra = [(k.lower().encode(), v.encode()) for k, v in status_headers(status).items()]
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", ctype), (b"content-length", str(len(payload)).encode()), *extra]})
        await send({"type": "http.response.body", "body": payload})
