"""Issue 10 item 7: the whole API under schemathesis — no 5xx and no undocumented status or
content type, with a facility, an insurer and a reviewer key.

A bounded run in the suite (a few examples per operation, SQLite, about half a minute);
the longer run is `ONSHI_SCHEMATHESIS_EXAMPLES=200 ./run test tests/test_schemathesis.py`
(README, Security)."""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance, status_code_conformance
from sqlalchemy import insert

from onshi.interfaces.http.app import create_app
from onshi.registry import db, schema
from onshi.registry.security import api_key_hash

from factories import FACILITY, KYOKAI_TOKYO, World, key

EXAMPLES = int(os.environ.get("ONSHI_SCHEMATHESIS_EXAMPLES", "4"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
KEYS = {"facility": key("facility", FACILITY), "insurer": key("insurer", KYOKAI_TOKYO), "reviewer": "test-reviewer-st"}


def _app():  # noqa: ANN202
    """A registry of its own (SQLite in a temporary directory): the examples write to it."""
    import tempfile

    os.environ.setdefault("ONSHI_TODAY", "2026-05-12")
    path = os.path.join(tempfile.mkdtemp(prefix="onshi-schemathesis-"), "registry.sqlite3")
    engine = db.make_engine(f"sqlite:///{path}")
    db.migrate(engine)
    world = World.build(engine)
    with engine.begin() as conn:
        conn.execute(insert(schema.api_key).values(key_hash=api_key_hash(KEYS["reviewer"]), role="reviewer", subject="all", label="審査"))
    world.member(card={"issued": "2022-03-01", "serial": "SCHEMA000001"}, number="1001")
    return create_app(world.registry)


api = schemathesis.openapi.from_asgi("/openapi.json", _app())


@api.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_the_api_answers_only_what_it_documents(case):  # noqa: ANN001
    for api_key in KEYS.values():  # every generated request with each kind of key
        case.call_and_validate(headers={"X-API-Key": api_key}, checks=CHECKS)
