"""Issue 14 item 2: the server's protocol (interfaces/http/protocol.py) answers the lookups
before the ASGI layers, in one write — and answers them exactly as the application does
(status, body, content type, the error headers), keeps pipelined answers in order, keeps
the connection alive or closes it as asked, and leaves every other route to the application."""

from __future__ import annotations

import socket

import orjson
import pytest
from uvicorn.importer import import_from_string

from onshi.interfaces.common.problems import status_headers
from onshi.interfaces.http import fastpath, protocol
from onshi.interfaces.http.app import create_app
from onshi.interfaces.http.protocol import LookupProtocol, lookup_registry
from onshi.interfaces.http.server import PROTOCOL
from onshi.registry.service import Registry

from browser_conftest import LiveServer, _free_port
from test_lookup_loop import CARD, FK, requests
from test_verification_log import logged


class _CountingTransport:
    """A transport that records what is written through it (the test's server runs asyncio's loop)."""

    def __init__(self, transport, writes: list) -> None:  # noqa: ANN001
        self._transport, self._writes = transport, writes

    def write(self, data: bytes) -> None:
        self._writes.append(bytes(data))
        self._transport.write(data)

    def __getattr__(self, name: str):  # noqa: ANN204
        return getattr(self._transport, name)


class CountingProtocol(LookupProtocol):
    writes: list[bytes] = []
    answered: list[int] = []

    def connection_made(self, transport) -> None:  # noqa: ANN001
        super().connection_made(_CountingTransport(transport, self.writes))

    def _respond(self, cycle, status, ctype, payload) -> None:  # noqa: ANN001
        self.answered.append(status)
        super()._respond(cycle, status, ctype, payload)


@pytest.fixture
def served(world):  # noqa: ANN001, ANN201
    """The application on a live uvicorn server with the lookup protocol, its lifespan run (on
    PostgreSQL the registry answers lookups on the server's loop)."""
    CountingProtocol.writes, CountingProtocol.answered = [], []
    registry = Registry(world.engine)
    server = LiveServer(create_app(registry), _free_port(), http=CountingProtocol, lifespan="on", loop="asyncio").start()
    world.port = server.server.config.port
    yield world
    server.stop()
    registry.close()


def _request(method: str, path: str, body: bytes = b"", api_key: str | None = None, close: bool = False) -> bytes:
    head = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Content-Type: application/json", f"Content-Length: {len(body)}"]
    if api_key is not None:
        head.append(f"X-API-Key: {api_key}")
    if close:
        head.append("Connection: close")
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def _responses(sock: socket.socket, count: int) -> list[tuple[int, dict[str, str], bytes]]:
    """Read `count` responses (Content-Length framed) from the socket, in order."""
    data, out = b"", []
    while len(out) < count:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            assert chunk, f"the server closed the connection after {len(out)} of {count} answers"
            data += chunk
        head, _, data = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in lines[1:])}
        size = int(headers["content-length"])
        while len(data) < size:
            chunk = sock.recv(65536)
            assert chunk, "the server closed the connection in a body"
            data += chunk
        out.append((int(lines[0].split()[1]), headers, data[:size]))
        data = data[size:]
    return out


def _connect(world) -> socket.socket:  # noqa: ANN001
    return socket.create_connection(("127.0.0.1", world.port), timeout=10)


def test_the_protocol_answers_every_lookup_as_the_application_does(served):
    world = served
    reqs = requests(world)
    expected = [fastpath.lookup_response(world.registry, kind, k, body) for kind, k, body in reqs]
    assert {status for status, _, _ in expected} == {200, 401, 403, 422}
    with _connect(world) as sock:  # one keep-alive connection for all of them
        got = []
        for kind, k, body in reqs:
            sock.sendall(_request("POST", f"/api/v1/lookups/{kind}", body, k))
            got += _responses(sock, 1)
    for (status, ctype, payload), (got_status, headers, got_body) in zip(expected, got, strict=True):
        assert (got_status, headers["content-type"].encode(), got_body) == (status, ctype, payload)
        for name, value in status_headers(status).items():  # WWW-Authenticate on a 401
            assert headers[name.lower()] == value
        assert "date" in headers and headers.get("connection") != "close"
    postgres = world.engine.dialect.name == "postgresql"
    # On PostgreSQL the protocol wrote every answer itself, each in one write; on SQLite the
    # registry answers lookups in threads, so the application did (the same answers).
    assert CountingProtocol.answered == ([s for s, _, _ in expected] if postgres else [])
    if postgres:
        whole = [w for w in CountingProtocol.writes if w.startswith(b"HTTP/1.1 ")]
        assert len(whole) == len(CountingProtocol.writes) == len(reqs)
        assert all(w.endswith(payload) for w, (_, _, payload) in zip(whole, expected))


def test_pipelined_requests_are_answered_in_order_and_the_connection_closed_when_asked(served):
    world = served
    m = world.member(card=CARD)
    card = orjson.dumps({"card_serial": m["serial"]})
    numbers = orjson.dumps({k: m[key] for k, key in (("insurer_number", "insurer"), ("symbol", "symbol"), ("number", "number"),
                                                      ("branch", "branch"), ("birth_date", "birth_date"))})
    before = logged(world.engine)
    with _connect(world) as sock:
        sock.sendall(b"".join([  # four requests in one packet: the answers must come back in this order
            _request("POST", "/api/v1/lookups/card", card, FK),
            _request("GET", "/api/v1/health"),
            _request("POST", "/api/v1/lookups/numbers", numbers, FK),
            _request("POST", "/api/v1/lookups/card", orjson.dumps({"card_serial": "NOSUCHCARD"}), FK, close=True),
        ]))
        answers = _responses(sock, 4)
        assert sock.recv(1) == b""  # closed after the last, as it asked
    assert [status for status, _, _ in answers] == [200, 200, 200, 200]
    first, health, third, last = (orjson.loads(body) for _, _, body in answers)
    assert first["validity"] == "valid" and first["method"] == "card"
    assert health["status"] == "ok"
    assert third["validity"] == "valid" and third["method"] == "numbers"
    assert last["error"] is not None and answers[3][1]["connection"] == "close"
    assert logged(world.engine) - before == 3  # each lookup's entry committed before its answer


def test_a_failure_in_a_lookup_is_a_500_and_the_server_goes_on(served, monkeypatch):
    world = served
    m = world.member(card=CARD)

    async def broken(*_args):  # noqa: ANN002, ANN202
        raise RuntimeError("a bug")

    monkeypatch.setattr(protocol.fastpath, "lookup_response_async", broken)  # the protocol's path (PostgreSQL)
    monkeypatch.setattr(protocol.fastpath, "answer", broken)  # the application's (SQLite)
    with _connect(world) as sock:
        sock.sendall(_request("POST", "/api/v1/lookups/card", orjson.dumps({"card_serial": m["serial"]}), FK))
        status, headers, body = _responses(sock, 1)[0]
    if world.engine.dialect.name == "postgresql":  # the protocol's own path (SQLite: the application's, which also calls answer)
        assert (status, body, headers["connection"]) == (500, b"Internal Server Error", "close")
    else:
        assert status == 500
    monkeypatch.undo()
    with _connect(world) as sock:
        sock.sendall(_request("POST", "/api/v1/lookups/card", orjson.dumps({"card_serial": m["serial"]}), FK))
        assert _responses(sock, 1)[0][0] == 200


def test_the_protocol_finds_the_registry_through_the_layers_or_leaves_the_request_to_the_app(world):
    registry = Registry(world.engine)
    assert lookup_registry(create_app(registry)) is registry
    assert lookup_registry(create_app(registry, fast_lookups=False)) is None  # answered by the application's routes
    assert import_from_string(PROTOCOL) is LookupProtocol  # what `onshi serve` and the benchmarks run
    registry.close()
