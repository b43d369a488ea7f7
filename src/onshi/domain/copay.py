"""負担割合 (copay ratio) by age, income and 後期高齢者 ratio (R-P1–P4).

Ratios are handled as integer percents (10, 20, 30, 100) so that boundaries are exact;
`as_ratio` gives the 0.1 / 0.2 / 0.3 / 1.0 of the case files.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from .dates import age_reached_on, anniversary, first_of_next_month

SELF_PAY = 100


@lru_cache(maxsize=65536)
def preschool_end(birth: dt.date) -> dt.date:
    """R-P1: the first 31 March on or after the day the child reaches 6 (the day before the
    6th birthday). Born 1 April → reaches 6 on 31 March → 2割 through that day."""
    reached = age_reached_on(birth, 6)
    march = dt.date(reached.year, 3, 31)
    return march if march >= reached else dt.date(reached.year + 1, 3, 31)


@lru_cache(maxsize=65536)
def elderly_start(birth: dt.date) -> dt.date:
    """R-P3: the 1st of the month after reaching 70; born on the 1st → the birthday month."""
    return first_of_next_month(age_reached_on(birth, 70))


@lru_cache(maxsize=65536)
def kouki_start(birth: dt.date) -> dt.date:
    """R-P4: 後期高齢者医療 from the 75th birthday."""
    return anniversary(birth, 75)


def copay_percent(
    birth: dt.date,
    day: dt.date,
    *,
    kouki: bool = False,
    income: str = "general",
    kouki_ratio: float | None = None,
) -> int:
    """The copay percent for care on `day`.

    kouki: the qualification is 後期高齢者医療 (R-P4) — the 広域連合's ratio applies
    (1割 when the insurer has not said otherwise). Otherwise R-P1–P3 by age and income.
    """
    if kouki:  # R-P4
        return int(round((kouki_ratio or 0.1) * 100))
    if day <= preschool_end(birth):  # R-P1
        return 20
    if day < elderly_start(birth):  # R-P2
        return 30
    return 30 if income == "high" else 20  # R-P3


def as_ratio(percent: int) -> float:
    return percent / 100


def is_preschool(birth: dt.date, day: dt.date) -> bool:
    return day <= preschool_end(birth)


def is_elderly_recipient(birth: dt.date, day: dt.date) -> bool:
    """高齢受給者 (70–74, R-P3): from elderly_start to the day before 後期 begins."""
    return elderly_start(birth) <= day < kouki_start(birth)
