"""R-B1 card and certificate validity, R-B2 grace period, R-B3 renewal alert, R-B4 after the
grace period (card_status)."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from onshi.domain.card import (
    CardPolicy,
    alert_start,
    card_expiry,
    card_status,
    cert_expiry,
    grace_period_end,
)
from onshi.domain.dates import add_months, age_on, birthday_in_year, end_of_month

FAST = settings(max_examples=300, deadline=None, database=None)
D = dt.date
ONE = dt.timedelta(days=1)


# --- R-B1 -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("birth", "issued", "card", "cert"),
    [
        # shared/domain/cases/examples.yaml
        (D(1988, 9, 30), D(2022, 3, 1), D(2031, 9, 30), D(2026, 9, 30)),
        (D(1988, 2, 10), D(2021, 3, 1), D(2031, 2, 10), D(2026, 2, 10)),
        # issued on the birthday itself: that birthday is not "after issue"
        (D(1990, 6, 15), D(2020, 6, 15), D(2030, 6, 15), D(2025, 6, 15)),
        (D(1990, 6, 15), D(2020, 6, 14), D(2029, 6, 15), D(2024, 6, 15)),  # the next day is the 1st
        (D(1990, 6, 15), D(2020, 6, 16), D(2030, 6, 15), D(2025, 6, 15)),
        (D(1990, 1, 1), D(2020, 12, 31), D(2030, 1, 1), D(2025, 1, 1)),
        (D(1990, 12, 31), D(2021, 1, 1), D(2030, 12, 31), D(2025, 12, 31)),  # 1st is 2021-12-31
        # born 29 February: documents use 28 February in common years
        (D(2000, 2, 29), D(2021, 3, 1), D(2031, 2, 28), D(2026, 2, 28)),
        (D(1996, 2, 29), D(2022, 1, 10), D(2031, 2, 28), D(2026, 2, 28)),
        (D(1980, 2, 29), D(2014, 3, 1), D(2024, 2, 29), D(2019, 2, 28)),  # 10th falls in a leap year
        (D(1980, 2, 29), D(2024, 2, 29), D(2034, 2, 28), D(2029, 2, 28)),  # issued on the 29 Feb birthday
    ],
    ids=lambda v: str(v),
)
def test_R_B1_adult_card_is_10th_and_certificate_5th_birthday_after_issue(birth, issued, card, cert):
    assert card_expiry(birth, issued) == card
    assert cert_expiry(birth, issued) == cert
    assert cert_expiry(birth, issued, card) == cert


@pytest.mark.parametrize(
    ("birth", "issued", "applied", "card"),
    [
        (D(2010, 5, 1), D(2022, 4, 10), None, D(2026, 5, 1)),  # a child
        (D(2004, 5, 1), D(2022, 4, 30), None, D(2026, 5, 1)),  # the day before the 18th birthday: minor
        (D(2004, 5, 1), D(2022, 5, 1), None, D(2032, 5, 1)),  # on the 18th birthday: adult
        # under 20 for applications before 2022-04-01
        (D(2003, 1, 10), D(2022, 3, 15), None, D(2027, 1, 10)),  # 19, issued (= applied) before the change
        (D(2003, 1, 10), D(2022, 4, 15), None, D(2032, 1, 10)),  # 19, applied after the change
        (D(2003, 1, 10), D(2022, 4, 20), D(2022, 3, 31), D(2027, 1, 10)),  # applied the day before
        (D(2003, 1, 10), D(2022, 4, 20), D(2022, 4, 1), D(2032, 1, 10)),  # applied on the day of the change
        (D(2002, 3, 1), D(2022, 2, 28), None, D(2026, 3, 1)),  # the day before the 20th birthday
        (D(2002, 2, 28), D(2022, 2, 28), None, D(2032, 2, 28)),  # on the 20th birthday
        (D(2002, 2, 28), D(2022, 2, 27), None, D(2026, 2, 28)),  # the day before the 20th birthday
        (D(2004, 2, 29), D(2022, 3, 1), None, D(2027, 2, 28)),  # 18 but under 20: applied before 2022-04-01
        (D(2008, 2, 29), D(2026, 2, 28), None, D(2031, 2, 28)),  # 29 Feb: 18 only from 1 March 2026
        (D(2008, 2, 29), D(2026, 3, 1), None, D(2036, 2, 29)),
    ],
    ids=lambda v: str(v),
)
def test_R_B1_minor_card_is_5th_birthday_after_issue(birth, issued, applied, card):
    assert card_expiry(birth, issued, applied) == card
    assert cert_expiry(birth, issued, card) == min(cert_expiry(birth, issued), card)


def test_R_B1_certificate_never_outlives_a_shorter_card():
    """A card that ends early (a foreign resident's card ends with the residence period, as in
    examples.yaml: issued 2026-03-10, both expire 2028-03-09) caps the certificate."""
    birth, issued = D(1988, 9, 30), D(2026, 3, 10)
    assert cert_expiry(birth, issued) == D(2030, 9, 30)
    assert cert_expiry(birth, issued, D(2028, 3, 9)) == D(2028, 3, 9)


def _is_document_birthday(day: dt.date, birth: dt.date) -> bool:
    return day == birthday_in_year(birth, day.year)


@FAST
@given(st.dates(D(1920, 1, 1), D(2024, 12, 31)), st.integers(0, 60 * 366), st.booleans())
def test_R_B1_expiry_properties(birth, days_after_birth, early_application):
    issued = birth + dt.timedelta(days=days_after_birth)
    applied = D(2022, 3, 1) if early_application else D(2022, 4, 1)
    applied = min(applied, issued)
    card = card_expiry(birth, issued, applied)
    cert = cert_expiry(birth, issued, card)
    majority = 20 if applied < D(2022, 4, 1) else 18
    years = 5 if age_on(birth, issued) < majority else 10
    # a birthday (as printed: 29 Feb → 28 Feb), strictly after issue, the `years`-th one
    assert _is_document_birthday(card, birth)
    assert card > issued
    assert card.year - issued.year in (years - 1, years)
    assert birthday_in_year(birth, card.year - years) <= issued < birthday_in_year(birth, card.year - years + 1)
    # the certificate: 5th birthday after issue, never after the card
    assert _is_document_birthday(cert, birth)
    assert issued < cert <= card
    assert cert == min(birthday_in_year(birth, card.year - years + 5), card)


# --- R-B2 -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expiry", "grace_end"),
    [
        (D(2026, 2, 10), D(2026, 5, 31)),  # the rule's own example: February → 31 May
        (D(2025, 11, 30), D(2026, 2, 28)),  # ends in a 28-day February
        (D(2027, 11, 15), D(2028, 2, 29)),  # ends in a 29-day February
        (D(2027, 11, 1), D(2028, 2, 29)),
        (D(2026, 1, 31), D(2026, 4, 30)),  # ends in a 30-day month
        (D(2026, 3, 31), D(2026, 6, 30)),
        (D(2026, 6, 1), D(2026, 9, 30)),
        (D(2026, 8, 31), D(2026, 11, 30)),
        (D(2026, 2, 28), D(2026, 5, 31)),  # ends in a 31-day month
        (D(2028, 2, 29), D(2028, 5, 31)),  # leap-day expiry
        (D(2026, 4, 30), D(2026, 7, 31)),
        (D(2026, 10, 31), D(2027, 1, 31)),  # crosses the year
        (D(2026, 12, 1), D(2027, 3, 31)),
        (D(2026, 9, 30), D(2026, 12, 31)),  # examples.yaml certificate (2026-09-30)
        (D(2031, 11, 30), D(2032, 2, 29)),
    ],
    ids=lambda v: str(v),
)
def test_R_B2_grace_end_is_last_day_of_third_month(expiry, grace_end):
    assert grace_period_end(expiry) == grace_end


@pytest.mark.parametrize("year", [2026, 2027, 2028], ids=lambda y: f"R-B2-{y}")
def test_R_B2_grace_end_for_every_month_and_day(year):
    """Every expiry day of a year: the grace end is the month end three months on."""
    day = D(year, 1, 1)
    while day.year == year:
        index = day.year * 12 + day.month - 1 + 3
        expected = end_of_month(D(index // 12, index % 12 + 1, 1))
        assert grace_period_end(day) == expected
        day += ONE


@FAST
@given(st.dates(D(2000, 1, 1), D(2100, 12, 31)))
def test_R_B2_grace_end_properties(expiry):
    end = grace_period_end(expiry)
    assert (end + ONE).day == 1  # a month end
    assert end > expiry
    assert end <= add_months(expiry, 3) + dt.timedelta(days=31)
    assert end >= add_months(expiry, 3)  # never shorter than "3 months from expiry"
    assert (end.year * 12 + end.month) - (expiry.year * 12 + expiry.month) == 3
    assert grace_period_end(end_of_month(expiry)) == end  # only the month matters
    assert grace_period_end(expiry.replace(day=1)) == end


def test_R_B2_grace_months_are_a_policy_value():
    assert grace_period_end(D(2026, 2, 10), 0) == D(2026, 2, 10)  # no grace before 2025-12 (policy value 0)
    assert grace_period_end(D(2026, 2, 10), 1) == D(2026, 3, 31)
    assert grace_period_end(D(2026, 11, 10), 4) == D(2027, 3, 31)


# --- R-B3 -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expiry", "start"),
    [
        (D(2026, 9, 30), D(2026, 6, 30)),
        (D(2026, 2, 10), D(2025, 11, 10)),
        (D(2026, 5, 31), D(2026, 2, 28)),  # clamped to the shorter month
        (D(2028, 5, 31), D(2028, 2, 29)),
        (D(2026, 3, 1), D(2025, 12, 1)),
    ],
    ids=lambda v: str(v),
)
def test_R_B3_alert_starts_three_months_before_expiry(expiry, start):
    assert alert_start(expiry) == start


CERT = D(2026, 9, 30)
CARD = D(2031, 9, 30)
REGISTERED = D(2022, 4, 20)


@pytest.mark.parametrize(
    ("day", "usable", "in_grace", "reason", "alerts"),
    [
        (D(2026, 6, 29), True, False, None, ()),  # the day before the alert window
        (D(2026, 6, 30), True, False, None, ("cert_expiring",)),  # add_months(expiry, -3)
        (D(2026, 9, 30), True, False, None, ("cert_expiring",)),  # the expiry day itself
        (D(2026, 10, 1), True, True, None, ("cert_grace",)),  # R-B2: expiry + 1
        (D(2026, 12, 31), True, True, None, ("cert_grace",)),  # the grace end
        (D(2027, 1, 1), False, False, "cert_expired", ()),  # R-B4: grace end + 1
    ],
    ids=lambda v: str(v),
)
def test_R_B3_R_B2_card_status_at_certificate_boundaries(day, usable, in_grace, reason, alerts):
    status = card_status(day, card_expires=CARD, cert_expires=CERT, insurance_registered=REGISTERED)
    assert (status.usable, status.in_grace, status.reason, status.alerts) == (usable, in_grace, reason, alerts)
    assert status.cert_grace_end == D(2026, 12, 31)
    assert status.card_grace_end == D(2031, 12, 31)


@pytest.mark.parametrize(
    ("day", "usable", "in_grace", "reason", "alerts"),
    [
        (D(2031, 6, 29), True, False, None, ()),
        (D(2031, 6, 30), True, False, None, ("cert_expiring", "card_expiring")),
        (D(2031, 9, 30), True, False, None, ("cert_expiring", "card_expiring")),
        (D(2031, 10, 1), True, True, None, ("cert_grace", "card_grace")),
        (D(2031, 12, 31), True, True, None, ("cert_grace", "card_grace")),
        (D(2032, 1, 1), False, False, "card_expired", ()),
    ],
    ids=lambda v: str(v),
)
def test_R_B3_R_B2_card_status_at_card_boundaries(day, usable, in_grace, reason, alerts):
    """A renewed certificate that runs to the card's end: both alerts, both grace periods."""
    status = card_status(day, card_expires=CARD, cert_expires=CARD, insurance_registered=REGISTERED)
    assert (status.usable, status.in_grace, status.reason, status.alerts) == (usable, in_grace, reason, alerts)


def test_R_B2_examples_yaml_certificate_in_grace():
    """examples.yaml: certificate expired 2026-02-10, visit 2026-04-20 → usable, cert_grace."""
    status = card_status(
        D(2026, 4, 20), card_expires=D(2031, 2, 10), cert_expires=D(2026, 2, 10), insurance_registered=D(2021, 10, 20)
    )
    assert status.usable and status.in_grace and status.reason is None
    assert status.alerts == ("cert_grace",)
    assert status.cert_grace_end == D(2026, 5, 31)


@pytest.mark.parametrize(
    ("registered", "day", "usable", "reason"),
    [
        (None, D(2026, 5, 12), False, "not_registered"),
        (D(2026, 5, 13), D(2026, 5, 12), False, "not_registered"),  # registered later than the day
        (D(2026, 5, 12), D(2026, 5, 12), True, None),  # registered that day
        (None, D(2027, 1, 1), False, "cert_expired"),  # an expiry is the stronger reason
        (None, D(2032, 1, 1), False, "card_expired"),
    ],
    ids=lambda v: str(v),
)
def test_R_B4_card_status_registration(registered, day, usable, reason):
    status = card_status(day, card_expires=CARD, cert_expires=CERT, insurance_registered=registered)
    assert (status.usable, status.reason) == (usable, reason)


def test_R_B2_R_B3_card_status_follows_the_policy_values():
    policy = CardPolicy(grace_months=1, alert_months=1)
    kwargs = dict(card_expires=CARD, cert_expires=CERT, insurance_registered=REGISTERED, policy=policy)
    assert card_status(D(2026, 8, 29), **kwargs).alerts == ()
    assert card_status(D(2026, 8, 30), **kwargs).alerts == ("cert_expiring",)
    assert card_status(D(2026, 10, 31), **kwargs).usable
    assert card_status(D(2026, 11, 1), **kwargs).reason == "cert_expired"


@FAST
@given(st.dates(D(2020, 1, 1), D(2040, 12, 31)), st.integers(-200, 200))
def test_R_B3_R_B2_alert_and_grace_windows_property(cert_expiry_day, offset):
    """cert_expiring ⇔ add_months(expiry, -3) ≤ day ≤ expiry; cert_grace ⇔ expiry < day ≤
    grace end; usable ⇔ day ≤ grace end (card far away, registered long before)."""
    day = cert_expiry_day + dt.timedelta(days=offset)
    status = card_status(
        day, card_expires=D(2099, 1, 1), cert_expires=cert_expiry_day, insurance_registered=D(2000, 1, 1)
    )
    grace_end = grace_period_end(cert_expiry_day)
    assert ("cert_expiring" in status.alerts) == (add_months(cert_expiry_day, -3) <= day <= cert_expiry_day)
    assert ("cert_grace" in status.alerts) == (cert_expiry_day < day <= grace_end)
    assert status.in_grace == (cert_expiry_day < day <= grace_end)
    assert status.usable == (day <= grace_end)
    assert status.reason == (None if day <= grace_end else "cert_expired")
    assert "card_expiring" not in status.alerts and "card_grace" not in status.alerts
