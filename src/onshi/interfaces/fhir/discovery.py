"""What a FHIR client discovers and reads without the onshi-specific $submit:

    GET  /fhir/r4/metadata                  CapabilityStatement (what this server supports)
    GET  /fhir/r4/Coverage?identifier=…&beneficiary.birthdate=…   searchset Bundle
    POST /fhir/r4/Coverage/_search          the same search with the parameters in the body
    GET  /fhir/r4/Coverage/{id}             one Coverage, for a facility that verified the person

The search is a number inquiry (RULES F.1, the registry's single implementation, logged):
`identifier` is the JP Core 被保険者個人識別子 (system JP_Insurance_memberID, value
`保険者番号:記号:番号:枝番`), and the birth date is required with it, as for the terminal's
inquiry, so that numbers alone reveal nobody. The match is the Coverage (status active when
有効, cancelled when the returned qualification has ended), with the Patient and the insurer
Organization as `include` entries. Pure: dicts in, dicts out.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Mapping, Sequence

from ... import config
from ...domain.dates import parse_date
from ...domain.errors import FieldError, InputError
from ...registry.lookup import LookupResult, Validity
from ...registry.service import NumberQuery, parse_number_query
from . import resources as R

FHIR_VERSION = "4.0.1"
SEARCH_PARAMETERS = ("identifier", "beneficiary.birthdate", "limit-consent")
IGNORED_PARAMETERS = ("_format", "_pretty")
LIMIT_CONSENT_PARAMETER = f"{R.ONSHI}:SearchParameter:limit-consent"
SUBMIT_OPERATION = f"{R.ONSHI}:OperationDefinition:CoverageEligibilityRequest-submit"


def capability_statement(base_url: str, software_version: str) -> dict:
    """The CapabilityStatement of GET /metadata (kind instance)."""
    return {
        "resourceType": "CapabilityStatement",
        "id": "onshi",
        "url": f"{base_url}/metadata",
        "version": software_version,
        "name": "OnshiEligibility",
        "title": "onshi オンライン資格確認 FHIR R4 (JP Core)",
        "status": "active",
        "date": config.now().astimezone(config.JST).date().isoformat(),
        "publisher": "onshi",
        "description": "資格確認（被保険者個人識別子と生年月日による Coverage の検索・参照、CoverageEligibilityRequest/$submit）",
        "kind": "instance",
        "software": {"name": "onshi", "version": software_version},
        "implementation": {"description": "onshi — オンライン資格確認等システム", "url": base_url},
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json", "json"],
        "rest": [{
            "mode": "server",
            "documentation": "Every interaction except GET /metadata needs a facility API key (X-API-Key, or Authorization: Bearer). "
                             "Errors are OperationOutcome resources.",
            "security": {"description": "A facility's API key in X-API-Key or Authorization: Bearer; insurer keys are refused (403)."},
            "resource": [
                {
                    "type": "Coverage",
                    "profile": R.JP_COVERAGE,
                    "documentation": "A qualification as the online eligibility system returns it. Coverage.period: the dates of the 資格確認書 the "
                                     "member holds, else the qualification's. Read: only a facility whose verification log holds the person.",
                    "interaction": [
                        {"code": "read", "documentation": "Only for a facility that has verified this person (404 otherwise)."},
                        {"code": "search-type", "documentation": "identifier and beneficiary.birthdate are both required."},
                    ],
                    "searchParam": [
                        {"name": "identifier", "definition": "http://hl7.org/fhir/SearchParameter/Coverage-identifier", "type": "token",
                         "documentation": f"{R.MEMBER_ID}|保険者番号:記号:番号:枝番 (the 被保険者個人識別子; the system may be omitted). Required."},
                        {"name": "beneficiary", "definition": "http://hl7.org/fhir/SearchParameter/Coverage-beneficiary", "type": "reference",
                         "documentation": "Only chained as beneficiary.birthdate=YYYY-MM-DD (the patient's birth date). Required."},
                        {"name": "limit-consent", "definition": LIMIT_CONSENT_PARAMETER, "type": "token",
                         "documentation": "true: the patient consents to 限度額適用認定証 data (the extension "
                                          f"{R.EXT_LIMIT} on the Coverage)."},
                    ],
                },
                {
                    "type": "CoverageEligibilityRequest",
                    "documentation": "POST /CoverageEligibilityRequest/$submit → CoverageEligibilityResponse (by card serial or by a contained JP_Coverage).",
                    "operation": [{"name": "submit", "definition": SUBMIT_OPERATION}],
                },
                {"type": "CoverageEligibilityResponse", "documentation": "The answer of $submit (not stored)."},
            ],
        }],
    }


# ---------------------------------------------------------------- search


@dataclass(frozen=True)
class CoverageSearch:
    numbers: NumberQuery
    limit_consent: bool = False


def _one(params: Mapping[str, Sequence[str]], name: str, errors: list[FieldError]) -> str | None:
    values = [v for v in params.get(name, ()) if v != ""]
    if not values:
        errors.append(FieldError(name, "is required"))
        return None
    if len(values) > 1:
        errors.append(FieldError(name, "must be given once"))
        return None
    return values[0]


def parse_coverage_search(params: Mapping[str, Sequence[str]]) -> CoverageSearch:
    """The search parameters (name → values), each problem naming its parameter."""
    errors: list[FieldError] = []
    unknown = sorted(k for k in params if k not in SEARCH_PARAMETERS and k not in IGNORED_PARAMETERS)
    errors += [FieldError(k, f"is not supported; search with {', '.join(SEARCH_PARAMETERS)}") for k in unknown]
    identifier = _one(params, "identifier", errors)
    birth = _one(params, "beneficiary.birthdate", errors)
    consent = (params.get("limit-consent") or ["false"])[-1]
    if consent not in ("true", "false"):
        errors.append(FieldError("limit-consent", "must be true or false"))
    parts: list[str] = []
    if identifier is not None:
        system, bar, value = identifier.rpartition("|")
        if bar and system not in ("", R.MEMBER_ID):
            errors.append(FieldError("identifier", f"the system must be {R.MEMBER_ID}"))
        elif value.count(":") != 3:
            errors.append(FieldError("identifier", "must be 保険者番号:記号:番号:枝番 (three colons; 記号 and 枝番 may be empty)"))
        else:
            parts = value.split(":")
    birth_date = None
    if birth is not None:
        text = birth[2:] if birth.startswith("eq") else birth
        try:
            birth_date = parse_date(text, "beneficiary.birthdate")
        except InputError as exc:
            errors.extend(exc.errors)
    if errors:
        raise InputError(errors)
    insurer, symbol, number, branch = parts
    try:
        numbers = parse_number_query(insurer, symbol or None, number, branch or None, birth_date)
    except InputError as exc:
        raise InputError([FieldError("identifier" if e.field != "birth_date" else "beneficiary.birthdate", f"{e.field}: {e.reason}")
                          for e in exc.errors]) from None
    return CoverageSearch(numbers, consent == "true")


def _uuid() -> str:
    return str(uuid.uuid4())


def search_bundle(result: LookupResult, base_url: str, *, facility_code: str, reference_number=None) -> dict:  # noqa: ANN001
    """The searchset Bundle of a number inquiry: the Coverage matched (none when 該当資格なし
    or 複数該当, with an OperationOutcome saying why), the Patient and the insurer included."""
    entries: list[dict] = []
    q = result.qualification
    if q is not None and result.person is not None:
        patient_id, insurer_id = _uuid(), _uuid()
        ref = reference_number(q) if reference_number else None
        patient = R.patient(result.person, resource_id=patient_id, facility_code=facility_code, reference_number=ref, member=q)
        insurer = R.insurer_organization(q, resource_id=insurer_id)
        cov = R.coverage(q, resource_id=str(q.id), patient_ref=f"urn:uuid:{patient_id}", insurer_ref=f"urn:uuid:{insurer_id}",
                         active=result.validity is Validity.VALID, validity=result)
        entries = [
            {"fullUrl": f"{base_url}/Coverage/{q.id}", "resource": cov, "search": {"mode": "match"}},
            {"fullUrl": f"urn:uuid:{patient_id}", "resource": patient, "search": {"mode": "include"}},
            {"fullUrl": f"urn:uuid:{insurer_id}", "resource": insurer, "search": {"mode": "include"}},
        ]
    elif result.validity is not None:
        outcome = {"resourceType": "OperationOutcome", "id": _uuid(), "issue": [{
            "severity": "information", "code": "not-found" if result.validity is Validity.NOT_FOUND else "multiple-matches",
            "diagnostics": result.validity.label,
        }]}
        entries = [{"fullUrl": f"urn:uuid:{outcome['id']}", "resource": outcome, "search": {"mode": "outcome"}}]
    return {
        "resourceType": "Bundle",
        "id": _uuid(),
        "meta": {"lastUpdated": config.now().astimezone(config.JST).isoformat(timespec="seconds")},
        "type": "searchset",
        "total": 1 if q is not None and result.person is not None else 0,
        "entry": entries,
    }


def coverage_resource(result: LookupResult, *, facility_code: str, reference_number=None) -> dict:  # noqa: ANN001
    """GET Coverage/{id}: the Coverage with its Patient and insurer contained."""
    q = result.qualification
    ref = reference_number(q) if reference_number else None
    cov = R.coverage(q, resource_id=str(q.id), active=result.validity is Validity.VALID, validity=result)
    contained = [R.patient(result.person, facility_code=facility_code, reference_number=ref, member=q), R.insurer_organization(q)]
    return {"resourceType": "Coverage", "id": cov.pop("id"), "meta": cov.pop("meta"), "contained": contained, **cov}

