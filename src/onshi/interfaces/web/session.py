"""The pages' sessions. Before login a signed cookie holds only a CSRF token. After the login
page has verified an API key, the session lives on the server (`web_session`: the digest of a
random session id, the key's digest, the CSRF token, the expiry) and the cookie holds the id.

- Logout deletes the row: the cookie is worthless from then on, wherever it was copied.
- Every page re-checks the key through `Registry.principal_of` (re-read within KEY_TTL
  seconds): a revoked key ends its sessions on every worker within seconds.
- The cookie is signed with ONSHI_SESSION_SECRET, else a random secret made once per
  deployment and kept in the database (registry.keys.session_secret) — never derived from a
  known value. It carries nothing secret but the session id.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import delete, insert, select
from starlette.requests import Request
from starlette.responses import Response

from ...domain.errors import Unauthorized
from ...registry import keys
from ...registry.schema import web_session
from ...registry.security import api_key_hash
from ...registry.service import Principal, Registry

COOKIE = "onshi_session"
MAX_AGE = 10 * 3600  # a working day at the desk; then log in again
SALT = "onshi-web-session"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)  # sessions expire in real time, whatever ONSHI_TODAY says


def _digest(sid: str) -> str:
    return hashlib.sha256(sid.encode()).hexdigest()


@dataclass(frozen=True)
class Session:
    csrf: str
    principal: Principal | None = None
    sid_hash: str | None = None  # the server-side session of a signed-in user


class Sessions:
    def __init__(self, registry: Registry, secret: str | None = None):
        self.registry = registry
        self._serializer = URLSafeTimedSerializer(secret or keys.session_secret(registry.engine), salt=SALT)

    def load(self, request: Request) -> Session | None:
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            data = self._serializer.loads(raw, max_age=MAX_AGE)
        except BadSignature:  # also SignatureExpired
            return None
        if not isinstance(data, dict) or not isinstance(data.get("csrf"), str):
            return None
        sid = data.get("sid")
        if not isinstance(sid, str):
            return Session(data["csrf"])
        sid_hash = _digest(sid)
        with self.registry.autocommit.connect() as conn:
            row = conn.execute(
                select(web_session.c.key_hash, web_session.c.csrf).where(web_session.c.id_hash == sid_hash, web_session.c.expires_at > _now())
            ).first()
        if row is None:  # logged out, expired or never ours
            return None
        try:
            principal = self.registry.principal_of(row.key_hash)  # the key still stands (R: revocation ends the session)
        except Unauthorized:
            self._delete(sid_hash)
            return None
        return Session(row.csrf, principal, sid_hash)

    def save(self, response: Response, request: Request, session: Session) -> None:
        """An anonymous session (the login form's CSRF token)."""
        self._set(response, request, {"csrf": session.csrf})

    def login(self, response: Response, request: Request, principal: Principal, key: str) -> Session:
        """A new server-side session for a verified key (a new id and CSRF token with the new privilege)."""
        sid, csrf, now = secrets.token_urlsafe(32), secrets.token_urlsafe(24), _now()
        with self.registry.engine.begin() as conn:
            conn.execute(delete(web_session).where(web_session.c.expires_at <= now))
            conn.execute(insert(web_session).values(
                id_hash=_digest(sid), key_hash=api_key_hash(key), csrf=csrf, created_at=now,
                expires_at=now + dt.timedelta(seconds=MAX_AGE),
            ))
        self._set(response, request, {"sid": sid, "csrf": csrf})
        return Session(csrf, principal, _digest(sid))

    def logout(self, response: Response, session: Session | None) -> None:
        if session is not None and session.sid_hash is not None:
            self._delete(session.sid_hash)
        response.delete_cookie(COOKIE, path="/")

    def _delete(self, sid_hash: str) -> None:
        with self.registry.engine.begin() as conn:
            conn.execute(delete(web_session).where(web_session.c.id_hash == sid_hash))

    def _set(self, response: Response, request: Request, data: dict) -> None:
        response.set_cookie(
            COOKIE, self._serializer.dumps(data), max_age=MAX_AGE, httponly=True, samesite="strict",
            secure=request.url.scheme == "https", path="/",
        )

    @staticmethod
    def new(principal: Principal | None = None) -> Session:
        return Session(secrets.token_urlsafe(24), principal)

    @staticmethod
    def csrf_ok(session: Session | None, token: object) -> bool:
        return session is not None and isinstance(token, str) and hmac.compare_digest(session.csrf, token)
