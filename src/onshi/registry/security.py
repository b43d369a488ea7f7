"""Secrets: the keyed hash standing in for the 個人番号, and API keys.

The 個人番号 is never stored or logged in clear: the registry keeps HMAC-SHA256 under a key
from configuration (ONSHI_MYNUMBER_KEY), so equal numbers can be matched but not recovered.
API keys are stored as SHA-256 digests.
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


def new_api_key(role: str) -> str:
    prefix = {"facility": "fk", "insurer": "ik"}.get(role, "k")
    return f"{prefix}_{secrets.token_urlsafe(24)}"


def derived_api_key(role: str, subject: str, seed: int | str) -> str:
    """A reproducible key for demo and test populations (`onshi seed --seed S`)."""
    prefix = {"facility": "fk", "insurer": "ik"}.get(role, "k")
    digest = hmac.new(f"onshi-demo-{seed}".encode(), f"{role}:{subject}".encode(), hashlib.sha256).hexdigest()
    return f"{prefix}_{subject}_{digest[:24]}"
