"""Issue 10 item 6: the verification log does not lose an answered lookup — each entry is
committed (group commit) before its answer leaves — and refuses TRUNCATE as UPDATE/DELETE."""

from __future__ import annotations

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from onshi.interfaces.http.app import create_app
from onshi.interfaces.oqs_xml import codec, codes
from onshi.interfaces.oqs_xml.service import OqsService
from onshi.registry import schema
from onshi.registry.db import make_engine
from onshi.registry.service import Registry

from factories import FACILITY, key
from test_fhir import by_numbers
from test_oqs_xml import search

FK = {"X-API-Key": key("facility", FACILITY)}
CARD = {"issued": "2022-03-01"}


def logged(engine) -> int:  # noqa: ANN001
    with engine.connect() as conn:  # a connection of its own: only what is committed
        return conn.execute(select(func.count()).select_from(schema.verification)).scalar_one()


@pytest.fixture
def server_registry(world):  # noqa: ANN001, ANN201
    """The registry as `onshi serve` builds it: the log written by its background thread."""
    registry = Registry(world.engine, buffered_log=True)
    registry.log.idle = 60.0  # no timer to hide behind: only the group commit may write
    yield registry
    registry.close()


def test_an_answered_lookup_is_committed_before_its_answer_in_every_channel(world, server_registry):
    m = world.member(card=CARD)
    numbers = {"insurer_number": m["insurer"], "symbol": m["symbol"], "number": m["number"], "branch": m["branch"], "birth_date": m["birth_date"]}
    expected = 0
    for fast in (True, False):
        client = TestClient(create_app(server_registry, fast_lookups=fast))  # no lifespan: it would close the registry
        for path, body in (("card", {"card_serial": m["serial"], "identity": "face"}), ("card", {"card_serial": "NOSUCHCARD"}), ("numbers", numbers)):
            assert client.post(f"/api/v1/lookups/{path}", json=body, headers=FK).status_code == 200
            expected += 1
            assert logged(world.engine) == expected  # committed before the answer, no flush
        r = client.post(f"/oqs/v1/{codes.SINGLE_INQUIRY}", content=codec.inquiry_request(FACILITY, [search(m)]), headers=FK)
        assert r.status_code == 200
        expected += 1
        assert logged(world.engine) == expected
        r = client.post("/fhir/r4/CoverageEligibilityRequest/$submit", content=orjson.dumps(by_numbers(m)), headers=FK | {"content-type": "application/fhir+json"})
        assert r.status_code == 200
        expected += 1
        assert logged(world.engine) == expected
    # a bulk inquiry: every entry logged before its answer is stored
    service = OqsService(server_registry)
    service.answer(codes.BULK_INQUIRY, codec.inquiry_request(FACILITY, [search(m)] * 5), FACILITY)
    assert service.process_pending() == 1 and logged(world.engine) == expected + 5


def test_a_lookup_whose_entry_cannot_be_committed_is_not_answered(world, server_registry, tmp_path):
    m = world.member(card=CARD)
    server_registry.log.engine = make_engine(f"sqlite:///{tmp_path / 'missing' / 'log.sqlite3'}")  # cannot be written
    server_registry.log.wait = 5.0
    r = TestClient(create_app(server_registry)).post("/api/v1/lookups/card", json={"card_serial": m["serial"]}, headers=FK)
    assert r.status_code == 503 and r.headers["content-type"] == "application/problem+json"
    assert m["number"] not in r.text and logged(world.engine) == 0


def test_the_log_refuses_update_delete_and_truncate(world):
    world.registry.lookup_by_card(FACILITY, "NOSUCHCARD")
    statements = ["UPDATE verification SET result = 'valid'", "DELETE FROM verification"]
    if world.engine.dialect.name == "postgresql":
        statements.append("TRUNCATE verification")
    for sql in statements:
        with pytest.raises(DBAPIError, match="append-only"):
            with world.engine.begin() as conn:
                conn.execute(text(sql))
    assert logged(world.engine) == 1
