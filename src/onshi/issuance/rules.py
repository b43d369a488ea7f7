"""The issuance values in force on one day, read once from the dated policy (policy/data):
issuance.yaml, `kouki_certificates` (R-T3 / R-I3g), `certificate_max_years` (R-I6c) and
`grace_months` (R-B2). The engine asks for the values of each document's first day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..policy import Entry, Policy, PolicyError
from .models import InsurerOptions, parse_month_day


@dataclass(frozen=True, slots=True)
class ResolvedOptions:
    """An insurer's options on one day: its own settings over the policy defaults of its kind."""

    annual_end: tuple[int, int] | None  # (month, day)
    certificate_years: int
    certificate_until: dt.date | None
    certificate_to_all: bool


@dataclass(frozen=True)
class IssuanceRules:
    day: dt.date
    grace_months: int  # R-B2
    grace_lead_months: int  # R-I3d: months before the month in which the grace ends
    kouki_automatic_age: int | None  # R-I3g / R-T3: 0 = every member, None = no automatic certificate
    kouki_age_on: tuple[int, int] | None  # R-I3g: the day that opens the certificate year (08-01)
    kouki_granted: frozenset[str]  # R-I3g: application reasons granted to 後期 members of 84 or less
    renewal_lead_months: int  # R-I6a
    kouki_lead_months: int  # R-I6b
    max_years: int  # R-I6c cap
    notice_annual_end: tuple[int, int]  # R-I6d default
    defaults: dict[str, dict]  # R-I6c / R-I3h option defaults by insurer kind
    entries: tuple[Entry, ...]  # what was read, for citations

    @classmethod
    def read(cls, policy: Policy, day: dt.date) -> "IssuanceRules":
        used: list[Entry] = []

        def value(name: str, required: bool = True) -> object:
            entry = policy.current(name, day) if name in policy.rules else None
            if entry is None:
                if required:
                    raise PolicyError(f"policy: no '{name}' in force on {day.isoformat()} (policy/data/issuance.yaml)")
                return None
            used.append(entry)
            return entry.value

        defaults: dict[str, dict] = {}
        for entry in policy.entries("issuance_options", day) if "issuance_options" in policy.rules else []:
            insurers = entry.scope.get("insurers", [])
            for kind in [insurers] if isinstance(insurers, str) else insurers:
                defaults[kind] = dict(entry.value or {})  # a later entry overrides
            used.append(entry)
        kouki = value("kouki_certificates", required=False) or None
        split = value("kouki_split", required=False) or {}
        try:
            return cls(
                day=day,
                grace_months=int(value("grace_months", required=False) or 0),
                grace_lead_months=int((value("grace_certificate_lead", required=False) or {}).get("months_before_grace_end_month", 0)),
                kouki_automatic_age=None if kouki is None else int(kouki["automatic_age"]),
                kouki_age_on=parse_month_day(split["age_on"]) if split.get("age_on") else None,
                kouki_granted=frozenset(split.get("granted", ())),
                renewal_lead_months=int(value("renewal_window")["months_before_end_month"]),
                kouki_lead_months=int(value("kouki_enrolment_lead")["months_before"]),
                max_years=int(value("certificate_max_years")),
                notice_annual_end=parse_month_day(str(value("notice_annual_end"))),
                defaults=defaults,
                entries=tuple(used),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise PolicyError(f"policy: an issuance value in force on {day.isoformat()} is malformed: {exc}") from None

    def options(self, kind: str, options: InsurerOptions) -> ResolvedOptions:
        base = self.defaults.get(kind)
        if base is None:
            raise PolicyError(f"policy: no issuance_options for insurers of kind '{kind}' on {self.day.isoformat()}")
        merged = base | options.explicit()
        until = merged.get("certificate_until")
        if until is not None and not isinstance(until, dt.date):
            until = dt.date.fromisoformat(str(until))
        annual = merged.get("annual_end")
        return ResolvedOptions(
            annual_end=parse_month_day(str(annual)) if annual else None,
            certificate_years=int(merged.get("certificate_years") or self.max_years),
            certificate_until=until,
            certificate_to_all=bool(merged.get("certificate_to_all")),
        )
