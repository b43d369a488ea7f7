"""Issue 10 item 3: a hostile upload cannot exhaust the server — bodies are bounded before any
parser sees them, parsing runs off the event loop (/health keeps answering), error bodies are
capped at the HTTP layer whatever the parser returns, and the XML endpoint takes what its
stated limit admits."""

from __future__ import annotations

import socket
import threading

import httpx
import pytest
from fastapi.testclient import TestClient

from onshi.interfaces.common.problems import MAX_ERRORS
from onshi.interfaces.http import limits
from onshi.interfaces.http.app import create_app
from onshi.interfaces.oqs_xml import codec, codes

from browser_conftest import LiveServer, _free_port
from factories import FACILITY, KYOKAI_TOKYO, key

# The HTTP layer, not the database: once, on SQLite.
pytestmark = pytest.mark.parametrize("engine", ["sqlite"], indirect=True)

FK = {"X-API-Key": key("facility", FACILITY)}
IK = {"X-API-Key": key("insurer", KYOKAI_TOKYO)}


@pytest.fixture
def server(world):  # noqa: ANN001, ANN201
    live = LiveServer(create_app(world.registry), _free_port()).start()
    yield live
    live.stop()


def raw_request(server, head: bytes) -> bytes:  # noqa: ANN001
    """Send only a request head (no body) and read the answer."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(head)
        out = b""
        while chunk := s.recv(65536):
            out += chunk
    return out


def test_a_declared_body_over_the_limit_is_refused_before_it_is_read(server):
    head = (b"POST /api/v1/claims/reads HTTP/1.1\r\nHost: x\r\nX-API-Key: " + FK["X-API-Key"].encode()
            + b"\r\nContent-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n" % (limits.UPLOADS + 1))
    answer = raw_request(server, head)  # the server answers at once: it never waits for the 64 MiB
    assert answer.startswith(b"HTTP/1.1 413") and b"application/problem+json" in answer and b"64 MiB" in answer


def test_a_streamed_body_is_cut_at_the_limit(server, monkeypatch):
    def chunks():  # noqa: ANN202 - chunked: no Content-Length to check up front
        for _ in range(3):
            yield b"x" * (limits.DEFAULT // 2 + 1)

    with httpx.Client(base_url=server.url, timeout=30) as c:
        r = c.post(f"/api/v1/insurers/{KYOKAI_TOKYO}/acquisitions", content=chunks(), headers=IK | {"content-type": "application/json"})
    assert r.status_code == 413 and r.headers["content-type"] == "application/problem+json"
    assert "1 MiB" in r.json()["detail"]


def test_error_bodies_are_capped_whatever_the_parser_returns(world, monkeypatch):
    # The UKE reader caps its own list (claims/uke_file.py); the HTTP layer must cap whatever it gets.
    from onshi.claims import service
    from onshi.domain.errors import FieldError, InputError

    def flood(_data):  # noqa: ANN001, ANN202
        raise InputError([FieldError(f"line {i}", "is not a record") for i in range(1, 200_001)])

    monkeypatch.setattr(service, "read_file", flood)
    client = TestClient(create_app(world.registry))
    r = client.post("/api/v1/claims/reads", content=b"IR\n", headers=FK)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert len(body["errors"]) == MAX_ERRORS and body["errors_total"] > 200_000 // 2
    assert len(r.content) < 64 * 1024 and len(body["detail"]) <= 2001


def test_health_answers_while_an_upload_is_parsed(server, monkeypatch):
    """The parser is held inside its work until /health has answered: were the parsing on the
    event loop, /health could not answer and the parser would give up waiting (no timing guess:
    the earlier version of this test, which raced a real 512 KiB parse against polling, failed
    now and then on a loaded machine)."""
    from onshi.claims import service

    parsing, health_answered = threading.Event(), threading.Event()
    real_read = service.read_file

    def held_read(data):  # noqa: ANN001, ANN202
        parsing.set()
        held = health_answered.wait(30)
        result = real_read(data)
        assert held, "/health did not answer while the upload was being parsed"
        return result

    monkeypatch.setattr(service, "read_file", held_read)
    statuses: list[int] = []

    def upload() -> None:
        with httpx.Client(base_url=server.url, timeout=60) as c:
            statuses.append(c.post("/api/v1/claims/reads", content=b"\n" * (512 * 1024), headers=FK).status_code)

    thread = threading.Thread(target=upload)
    thread.start()
    assert parsing.wait(30), "the upload never reached the parser"
    with httpx.Client(base_url=server.url, timeout=10) as c:
        assert c.get("/api/v1/health").status_code == 200
    health_answered.set()
    thread.join(60)
    assert statuses == [422]  # 512 KiB of newlines are no claim file: parsed, refused by field


def test_an_xml_file_with_a_text_run_over_libxml2s_default_is_read_within_the_stated_limit(world):
    long_run = "0" * 11_000_000  # libxml2's default refuses text nodes over 10,000,000 bytes
    data = codec.inquiry_request(FACILITY, []).replace(b"</XmlMsg>", f"<Padding>{long_run}</Padding></XmlMsg>".encode())
    assert len(data) < codes.MAX_FILE_BYTES
    root, _ = codec.parse_document(data)
    assert len(root.find("Padding").text) == 11_000_000
    r = TestClient(create_app(world.registry)).post(f"/oqs/v1/{codes.SINGLE_INQUIRY}", content=data, headers=FK)
    assert r.status_code == 200 and codes.ERROR_MALFORMED.encode() not in r.content
