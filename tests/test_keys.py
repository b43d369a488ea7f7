"""Issue 10 items 4 and 5: keys and cookies cannot be forged by default, and a revocation
takes effect — random keys shown once and stored hashed, `onshi keys`, a random session
secret per deployment, `serve` refusing a public address without production secrets, a key
cache with a short TTL, server-side sessions that logout and revocation end."""

from __future__ import annotations

import re

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from onshi.domain.errors import Unauthorized
from onshi.interfaces import cli
from onshi.interfaces.cli import app as onshi
from onshi.interfaces.http.app import create_app
from onshi.interfaces.oqs_xml import codec, codes
from onshi.registry import keys, schema, service
from onshi.registry.db import make_engine, migrate
from onshi.registry.security import api_key_hash
from onshi.registry.service import Registry

from factories import FACILITY, KYOKAI_TOKYO, key
from test_fhir import by_numbers
from test_oqs_xml import search
from test_web_routes import csrf_of, login

CARD = {"issued": "2022-03-01"}


@pytest.fixture
def runner(engine, monkeypatch):  # noqa: ANN001, ANN201
    monkeypatch.setenv("ONSHI_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    return CliRunner()


class Clock:
    """Registry's monotonic clock, moved by hand (KEY_TTL without sleeping)."""

    def __init__(self, monkeypatch):  # noqa: ANN001
        self.now = 1000.0
        monkeypatch.setattr(service, "_clock", lambda: self.now)

    def pass_ttl(self) -> None:
        self.now += Registry.KEY_TTL + 0.1


def test_keys_are_random_shown_once_and_stored_only_as_digests(world, runner):
    made = [runner.invoke(onshi, ["keys", "create", "--role", "facility", "--subject", FACILITY, "--label", "受付1"]) for _ in range(2)]
    assert all(m.exit_code == 0 for m in made), made[0].output
    first, second = (m.stdout.strip() for m in made)
    assert first != second and re.fullmatch(r"fk_[A-Za-z0-9_\-]{43}", first) and FACILITY not in first
    assert world.registry.authenticate(first).subject == FACILITY
    with world.engine.connect() as conn:
        stored = conn.execute(select(schema.api_key)).mappings().all()
    assert all(first not in str(dict(r)) for r in stored) and api_key_hash(first) in {r["key_hash"] for r in stored}
    listing = runner.invoke(onshi, ["keys", "list", "--subject", FACILITY]).stdout
    assert first not in listing and second not in listing and listing.count("受付1") == 2
    for role, subject in (("insurer", KYOKAI_TOKYO), ("reviewer", "1"), ("analyst", "all")):
        made = runner.invoke(onshi, ["keys", "create", "--role", role, "--subject", subject])
        assert made.exit_code == 0 and world.registry.authenticate(made.stdout.strip()).role == role
    for bad in (["--role", "facility", "--subject", "9999999999"], ["--role", "root", "--subject", "x"], ["--role", "reviewer", "--subject", "3"]):
        refused = runner.invoke(onshi, ["keys", "create", *bad])
        assert refused.exit_code == 2 and refused.stdout == "", refused.output


def test_a_revoked_key_stops_working_in_every_channel_within_the_ttl(world, runner, monkeypatch):
    clock = Clock(monkeypatch)
    m = world.member(card=CARD)
    made = runner.invoke(onshi, ["keys", "create", "--role", "facility", "--subject", FACILITY])
    fk = {"X-API-Key": made.stdout.strip()}
    client = TestClient(create_app(world.registry), follow_redirects=False)
    lookup = {"card_serial": m["serial"], "identity": "face"}
    assert client.post("/api/v1/lookups/card", json=lookup, headers=fk).status_code == 200
    csrf = login(client, fk["X-API-Key"])
    [listed] = [k for k in keys.list_keys(world.engine, "facility", FACILITY) if k["label"] == ""]
    assert runner.invoke(onshi, ["keys", "revoke", listed["id"]]).exit_code == 0  # another process: this one's cache still holds it
    clock.pass_ttl()
    assert client.post("/api/v1/lookups/card", json=lookup, headers=fk).status_code == 401
    assert client.post("/api/v1/lookups/numbers", headers=fk, json={k: m[k] for k in ("symbol", "number", "branch", "birth_date")} | {"insurer_number": m["insurer"]}).status_code == 401
    assert client.post(f"/oqs/v1/{codes.SINGLE_INQUIRY}", content=codec.inquiry_request(FACILITY, [search(m)]), headers=fk).status_code == 401
    fhir = client.post("/fhir/r4/CoverageEligibilityRequest/$submit", content=orjson.dumps(by_numbers(m)), headers=fk | {"content-type": "application/fhir+json"})
    assert fhir.status_code == 401
    assert client.get("/reception").status_code == 303  # the page session opened with it has ended
    assert client.post("/reception", data={"csrf": csrf, "patient_ref": "X"}).status_code == 303
    with pytest.raises(Unauthorized):
        world.registry.authenticate(fk["X-API-Key"])


def test_logout_ends_the_session_on_the_server(world):
    client = TestClient(create_app(world.registry), follow_redirects=False)
    login(client, key("facility", FACILITY))
    stolen = dict(client.cookies)
    assert client.get("/reception").status_code == 200
    client.post("/logout", data={"csrf": csrf_of(client.get("/reception").text)})
    client.cookies.clear()
    for name, value in stolen.items():  # a copy of the cookie taken before the logout
        client.cookies.set(name, value)
    assert client.get("/reception").status_code == 303 and client.get("/").headers["location"] == "/login"


def test_the_session_secret_is_random_per_deployment_and_kept(engine, tmp_path, monkeypatch):
    monkeypatch.delenv("ONSHI_SESSION_SECRET", raising=False)
    other = make_engine(f"sqlite:///{tmp_path / 'other.sqlite3'}")
    migrate(other)
    mine = keys.session_secret(engine)
    assert len(mine) >= 40 and keys.session_secret(engine) == mine  # kept: every worker and restart signs alike
    assert keys.session_secret(other) != mine
    monkeypatch.setenv("ONSHI_SESSION_SECRET", "s" * 40)
    assert keys.session_secret(engine) == "s" * 40
    other.dispose()


@pytest.mark.parametrize("env, refused", [
    ({}, ["ONSHI_MYNUMBER_KEY", "ONSHI_SESSION_SECRET"]),
    ({"ONSHI_MYNUMBER_KEY": "onshi-development-key-do-not-use-in-production", "ONSHI_SESSION_SECRET": "x" * 40}, ["ONSHI_MYNUMBER_KEY"]),
    ({"ONSHI_MYNUMBER_KEY": "k" * 40, "ONSHI_SESSION_SECRET": "short"}, ["ONSHI_SESSION_SECRET"]),
])
def test_serve_refuses_a_public_address_without_production_secrets(tmp_path, monkeypatch, env, refused):
    for name in ("ONSHI_MYNUMBER_KEY", "ONSHI_SESSION_SECRET"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    database = f"sqlite:///{tmp_path / 'never.sqlite3'}"
    out = CliRunner().invoke(onshi, ["serve", "--host", "0.0.0.0", "--database", database])
    assert out.exit_code == 2 and "refusing to serve on 0.0.0.0" in out.output
    assert all(name in out.output for name in refused)
    assert not (tmp_path / "never.sqlite3").exists()  # nothing seeded, nothing served
    assert cli.serve_refusals("127.0.0.1") == [] and cli.serve_refusals("::1") == [] and cli.serve_refusals("localhost") == []
    monkeypatch.setenv("ONSHI_MYNUMBER_KEY", "k" * 40)
    monkeypatch.setenv("ONSHI_SESSION_SECRET", "s" * 40)
    assert cli.serve_refusals("0.0.0.0") == [] and cli.serve_refusals("db.example") == []


def test_the_demo_prints_fresh_working_keys_on_every_start(tmp_path, monkeypatch, capsys):
    from onshi.registry.seed import seed_registry

    monkeypatch.setenv("ONSHI_TODAY", "2026-05-12")
    engine = make_engine(f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    migrate(engine)
    seed_registry(engine, people=300, seed=1, progress=False)
    printed = []
    for _ in range(2):
        cli._print_demo_keys(engine, 1)
        printed.append(re.findall(r"X-API-Key: (\S+)", capsys.readouterr().err))
    registry = Registry(engine)
    assert len(printed[1]) >= 3 and all(registry.authenticate(k) for k in printed[1])  # the demo facility, insurer and people's facilities
    assert {registry.authenticate(k).role for k in printed[1][:2]} == {"facility", "insurer"}
    for old in set(printed[0]) - set(printed[1]):
        with pytest.raises(Unauthorized):  # the previous start's demo keys no longer work
            registry.authenticate(old)
    engine.dispose()
