"""Secrets: the keyed hash standing in for the 個人番号, and API keys.

The 個人番号 is never stored or logged in clear: the registry keeps HMAC-SHA256 under a key
from configuration (ONSHI_MYNUMBER_KEY), so equal numbers can be matched but not recovered.
API keys are random (`new_api_key`), shown once and stored as SHA-256 digests.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from .. import config


def my_number_hash(my_number: str, key: bytes | None = None) -> str:
    return hmac.new(key or config.mynumber_key(), my_number.encode(), hashlib.sha256).hexdigest()


def api_key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


# Roles of API keys and the prefix that makes a key's kind visible in a log or a ticket.
KEY_PREFIXES = {"facility": "fk", "insurer": "ik", "reviewer": "rk", "analyst": "ak"}
ROLES = tuple(KEY_PREFIXES)


def new_api_key(role: str) -> str:
    """A random key (256 bits from `secrets`): shown once, stored only as its SHA-256."""
    return f"{KEY_PREFIXES.get(role, 'k')}_{secrets.token_urlsafe(32)}"


def key_id(key_hash: str) -> str:
    """The public name of a key: the start of its digest (for `onshi keys list|revoke`)."""
    return key_hash[:12]


def new_secret() -> str:
    return secrets.token_urlsafe(32)
