"""The server's HTTP protocol: uvicorn's httptools protocol, with the two lookup routes
answered before the ASGI layers.

uvicorn parses each request (httptools), keeps the connection alive, queues pipelined
requests and holds the body; for every other route it then runs the ASGI application as
always. For POST /api/v1/lookups/{card,numbers}, once the registry answers lookups on this
event loop (PostgreSQL, registry/aio.py), `LookupProtocol` awaits the same `fastpath.lookup_response_async`
and writes the whole response — status line, headers and body — in one call.

Why (`onshi bench lookup`, README Benchmarks): on the worker's one core, a lookup through
the ASGI layers cost two socket writes (uvicorn writes the headers and the body as they are
sent), the proxy-headers and body-limit middlewares, and the messages between them: about a
fifth of the worker's time at 32 connections. The answer itself is unchanged: the same
checks, body limit, problem+json errors and headers as FastLookups (fastpath.py), which still
answers these routes wherever this protocol is not in use (tests, other servers).
"""

from __future__ import annotations

import asyncio
import logging

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol, RequestResponseCycle
from uvicorn.protocols.utils import get_client_addr, get_path_with_query_string

from ..common.problems import status_headers
from . import fastpath

log = logging.getLogger("uvicorn.error")
INTERNAL_ERROR = b"Internal Server Error"


def lookup_registry(app):  # noqa: ANN001, ANN201
    """The registry of the FastLookups layer inside `app` (uvicorn's middlewares, BodyLimit),
    or None: then the request goes through the ASGI application."""
    for _ in range(8):
        if isinstance(app, fastpath.FastLookups):
            return app.registry
        app = getattr(app, "app", None)
        if app is None:
            return None
    return None


class LookupProtocol(HttpToolsProtocol):
    """uvicorn's `--http httptools`, answering the lookups itself (`--http
    onshi.interfaces.http.protocol:LookupProtocol`; `onshi serve` uses it)."""

    _registry_app: tuple | None = None  # (the application, its registry or None), found once per connection

    def _start_asgi_task(self, cycle: RequestResponseCycle, app) -> None:  # noqa: ANN001
        # Called by uvicorn when a request's headers are in, or when the response of the request
        # before it on this connection is complete (pipelining): the answers keep their order.
        scope = cycle.scope
        kind = fastpath.ROUTES.get(scope["path"]) if scope["method"] == "POST" else None
        if kind is not None:
            if self._registry_app is None or self._registry_app[0] is not app:
                self._registry_app = (app, lookup_registry(app))
            registry = self._registry_app[1]
            if registry is not None and registry.async_on(self.loop):
                task = self.loop.create_task(self._lookup(cycle, kind, registry))
                task.add_done_callback(self.tasks.discard)
                self.tasks.add(task)
                return
        super()._start_asgi_task(cycle, app)

    async def _lookup(self, cycle: RequestResponseCycle, kind: str, registry) -> None:  # noqa: ANN001
        try:
            body = await fastpath.read_body(cycle.receive)
            if body is None:  # the client went away
                return
            # on the registry's loop (checked above): its path, as fastpath.answer would choose
            status, ctype, payload = await fastpath.lookup_response_async(registry, kind, fastpath.key_of(cycle.scope["headers"]), body)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - as uvicorn does for an ASGI application: logged, 500
            log.error("Exception in the lookup route\n", exc_info=exc)
            status, ctype, payload = 500, b"text/plain; charset=utf-8", INTERNAL_ERROR
            cycle.keep_alive = False
        self._respond(cycle, status, ctype, payload)

    def _respond(self, cycle: RequestResponseCycle, status: int, ctype: bytes, payload: bytes) -> None:
        if cycle.disconnected:
            return
        cycle.response_started = True
        if cycle.access_log:
            scope = cycle.scope
            cycle.access_logger.info('%s - "%s %s HTTP/%s" %d', get_client_addr(scope), scope["method"],
                                     get_path_with_query_string(scope), scope["http_version"], status)
        head = [STATUS_LINE[status]]
        for name, value in cycle.default_headers:  # the server's Date and Server headers
            head += [name, b": ", value, b"\r\n"]
        head += [b"content-type: ", ctype, b"\r\ncontent-length: ", str(len(payload)).encode(), b"\r\n"]
        for name, value in status_headers(status).items():
            head += [name.lower().encode(), b": ", value.encode(), b"\r\n"]
        if not cycle.keep_alive:
            head.append(b"connection: close\r\n")
        head += [b"\r\n", payload]
        self.transport.write(b"".join(head))  # one write: the headers and the body together
        cycle.response_complete = True
        cycle.message_event.set()
        if not cycle.keep_alive:
            self.transport.close()
        cycle.on_response()
