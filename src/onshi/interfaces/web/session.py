"""The pages' session: after the login page has verified an API key, a signed cookie holds
the principal (role, subject, label) and a per-session CSRF token — never the key.

The cookie is signed (itsdangerous), not encrypted: its holder can read it, so it carries
nothing secret. Secret: ONSHI_SESSION_SECRET; without it one is derived from
ONSHI_MYNUMBER_KEY and the database URL, which is only as secret as that key (the
development key is public: set ONSHI_SESSION_SECRET, or ONSHI_MYNUMBER_KEY, in production).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.requests import Request
from starlette.responses import Response

from ... import config
from ...registry.service import Principal

COOKIE = "onshi_session"
MAX_AGE = 10 * 3600  # a working day at the desk; then log in again
SALT = "onshi-web-session"


def session_secret() -> str:
    explicit = os.environ.get("ONSHI_SESSION_SECRET")
    if explicit:
        return explicit
    # Dev default, stable across workers and restarts of the same database.
    return hmac.new(config.mynumber_key(), f"{SALT}|{config.database_url()}".encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Session:
    csrf: str
    principal: Principal | None = None


class Sessions:
    def __init__(self, secret: str | None = None):
        self._serializer = URLSafeTimedSerializer(secret or session_secret(), salt=SALT)

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
        who = data.get("who")
        principal = Principal(who["role"], who["subject"], who.get("label", "")) if isinstance(who, dict) else None
        return Session(data["csrf"], principal)

    def save(self, response: Response, request: Request, session: Session) -> None:
        data: dict = {"csrf": session.csrf}
        if session.principal is not None:
            p = session.principal
            data["who"] = {"role": p.role, "subject": p.subject, "label": p.label}
        response.set_cookie(
            COOKIE, self._serializer.dumps(data), max_age=MAX_AGE, httponly=True, samesite="strict",
            secure=request.url.scheme == "https", path="/",
        )

    @staticmethod
    def clear(response: Response) -> None:
        response.delete_cookie(COOKIE, path="/")

    @staticmethod
    def new(principal: Principal | None = None) -> Session:
        return Session(secrets.token_urlsafe(24), principal)

    @staticmethod
    def csrf_ok(session: Session | None, token: object) -> bool:
        return session is not None and isinstance(token, str) and hmac.compare_digest(session.csrf, token)
