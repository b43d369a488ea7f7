"""The My Number card and its 利用者証明用電子証明書: validity, grace period, alerts (R-B1–B4)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache

from .dates import add_months, anniversary, end_of_month, nth_birthday_after
from .frozen import quick_init

# R-B1: applications made before the 2022-04-01 change of the age of majority used 20.
MAJORITY_CHANGE = dt.date(2022, 4, 1)


def card_expiry(birth: dt.date, issued: dt.date, applied: dt.date | None = None) -> dt.date:
    """R-B1: the 10th birthday after issue; the 5th if the holder was a minor at issue
    (under 18, or under 20 for applications before 2022-04-01)."""
    applied = applied or issued
    majority = 20 if applied < MAJORITY_CHANGE else 18
    minor = issued < anniversary(birth, majority)
    return nth_birthday_after(birth, issued, 5 if minor else 10)


def cert_expiry(birth: dt.date, issued: dt.date, card_expires: dt.date | None = None) -> dt.date:
    """R-B1: the certificate runs to the 5th birthday after issue, never past the card."""
    fifth = nth_birthday_after(birth, issued, 5)
    return min(fifth, card_expires) if card_expires else fifth


@lru_cache(maxsize=65536)
def grace_period_end(expiry: dt.date, months: int = 3) -> dt.date:
    """R-B2: usable until the last day of the `months`-th month after the month of expiry
    (expiry in February → 31 May). No grace (`months` = 0, before 2025-12) ends on expiry."""
    if months <= 0:
        return expiry
    return end_of_month(add_months(expiry.replace(day=1), months))


@lru_cache(maxsize=65536)
def alert_start(expiry: dt.date, months: int = 3) -> dt.date:
    """R-B3: the reader shows a renewal alert from `months` months before expiry."""
    return add_months(expiry, -months)


@dataclass(frozen=True)
class CardPolicy:
    """The tunable values of R-B2/B3 (the policy data supplies them; these are the defaults)."""

    grace_months: int = 3
    alert_months: int = 3


@quick_init
@dataclass(frozen=True)
class CardStatus:
    """What the reader knows about a card on a given day."""

    usable: bool  # can verify as マイナ保険証 (inside every grace period, registered)
    in_grace: bool  # R-B2: expired but inside the grace period → qualification data only
    reason: str | None  # why not usable: not_registered | cert_expired | card_expired
    alerts: tuple[str, ...] = field(default_factory=tuple)  # cert_expiring, card_expiring, cert_grace, card_grace
    cert_grace_end: dt.date | None = None
    card_grace_end: dt.date | None = None


def _expiry(day: dt.date, expires: dt.date, grace_end: dt.date, alert_months: int, name: str, alerts: list[str]) -> bool:
    """R-B2/R-B3 for the card or its certificate: whether `day` is in its grace period, with
    its alert (`{name}_grace`, or `{name}_expiring` inside the alert window) added to `alerts`."""
    if day > expires:
        if day <= grace_end:
            alerts.append(f"{name}_grace")
            return True
    elif day >= alert_start(expires, alert_months):
        alerts.append(f"{name}_expiring")
    return False


def card_status(
    day: dt.date,
    *,
    card_expires: dt.date,
    cert_expires: dt.date,
    insurance_registered: dt.date | None,
    policy: CardPolicy = CardPolicy(),
) -> CardStatus:
    """R-B1–B4 for one day. Past a grace period the card no longer verifies and its insurance
    registration counts as cancelled (R-B4)."""
    cert_grace_end = grace_period_end(cert_expires, policy.grace_months)
    card_grace_end = grace_period_end(card_expires, policy.grace_months)
    alerts: list[str] = []
    # The certificate, then the card (the alerts keep that order).
    in_grace = _expiry(day, cert_expires, cert_grace_end, policy.alert_months, "cert", alerts)
    in_grace = _expiry(day, card_expires, card_grace_end, policy.alert_months, "card", alerts) or in_grace
    reason = None
    if day > card_grace_end:
        reason = "card_expired"
    elif day > cert_grace_end:
        reason = "cert_expired"
    elif insurance_registered is None or insurance_registered > day:
        reason = "not_registered"
    return CardStatus(
        usable=reason is None,
        in_grace=in_grace,
        reason=reason,
        alerts=tuple(alerts),
        cert_grace_end=cert_grace_end,
        card_grace_end=card_grace_end,
    )
