"""CoverageEligibilityRequest → CoverageEligibilityResponse over the registry's lookups.

The patient is identified in one of two ways (contained resources, referenced with '#id'):
- by card: an extension `urn:onshi:fhir:StructureDefinition:card-serial` (valueString) on the
  request, optionally `…:card-identity` (valueCode face | pin | visual | none, default
  face) — a マイナ保険証 read at the facility's reader (lookup_by_card);
- by numbers: the Coverage of `insurance[0].coverage` with the JP_Coverage extensions
  記号 / 番号 / 枝番 (or the 被保険者個人識別子 `保険者番号:記号:番号:枝番`), the insurer number
  from that identifier, the Coverage's payor or the request's insurer (an Organization with
  identifier system urn:oid:1.2.392.100495.20.3.61, contained or as a logical reference),
  and `patient.birthDate` (lookup_by_numbers).
`servicedDate` is the day verified (default today); `…:limit-consent` (valueBoolean) asks
for 限度額 data. Answer: `insurance[].inforce` (有効 only), `benefitPeriod` (the
qualification's first and last covered day), the copay ratio as
`item.benefit` (benefit-type#copay-percent, allowedUnsignedInt), the QualificationValidity
as an extension, the Patient, Coverage and insurer Organization contained.
A card that cannot be used gives outcome `error` with the reason in `error`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from ... import config
from ...domain.dates import parse_date
from ...domain.errors import FieldError, Forbidden, InputError
from ...registry.lookup import LookupResult, Validity
from ...registry.service import NumberQuery, parse_number_query
from . import resources as R

PURPOSES = ("auth-requirements", "benefits", "discovery", "validation")
IDENTITIES = ("face", "pin", "visual", "none")


@dataclass
class EligibilityQuery:
    purpose: list[str]
    as_of: dt.date | None
    limit_consent: bool = False
    card_serial: str | None = None
    identity: str = "face"
    numbers: NumberQuery | None = None
    request_ref: dict = field(default_factory=dict)


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def _dict(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _extension(resource: object, url: str) -> dict | None:
    for ext in _list(_dict(resource).get("extension")):
        if isinstance(ext, dict) and ext.get("url") == url:
            return ext
    return None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _identifiers(resource: object) -> list[dict]:
    return [i for i in _list(_dict(resource).get("identifier")) if isinstance(i, dict)]


def parse_request(body: object, facility_code: str) -> EligibilityQuery:
    """Validate a CoverageEligibilityRequest (JSON), naming each bad element."""
    if not isinstance(body, dict) or body.get("resourceType") != "CoverageEligibilityRequest":
        raise InputError("resourceType", "must be CoverageEligibilityRequest")
    errors: list[FieldError] = []
    contained = {}
    for i, res in enumerate(_list(body.get("contained"))):
        if isinstance(res, dict) and isinstance(res.get("id"), str):
            contained[f"#{res['id']}"] = res
        else:
            errors.append(FieldError(f"contained[{i}]", "must be a resource with an id"))

    def resolve(ref: object, where: str) -> dict | None:
        if not isinstance(ref, dict):
            return None
        target = ref.get("reference")
        if isinstance(target, str):
            if target in contained:
                return contained[target]
            errors.append(FieldError(f"{where}.reference", "must point to a contained resource ('#id')"))
        return None

    purpose = body.get("purpose") or ["validation"]
    if not isinstance(purpose, list) or not purpose or any(p not in PURPOSES for p in purpose):
        errors.append(FieldError("purpose", f"must be a list of {', '.join(PURPOSES)}"))
        purpose = ["validation"]
    as_of = None
    if body.get("servicedDate") is not None:
        try:
            as_of = parse_date(body.get("servicedDate"), "servicedDate")
            if as_of > config.today():
                errors.append(FieldError("servicedDate", "is in the future"))
        except InputError as exc:
            errors.extend(exc.errors)
    provider = _dict(body.get("provider"))
    provider_res = resolve(provider, "provider") if provider else None
    for ident in _identifiers(provider_res) + [i for i in [provider.get("identifier")] if isinstance(i, dict)]:
        if ident.get("system") == R.FACILITY_NUMBER and ident.get("value") != facility_code:
            raise Forbidden("provider", "is not the facility of this API key")
    consent_ext = _extension(body, R.EXT_LIMIT_CONSENT)
    limit_consent = bool(consent_ext and consent_ext.get("valueBoolean") is True)
    request_ref: dict = {"type": "CoverageEligibilityRequest"}
    idents = _identifiers(body)
    if idents and _str(idents[0].get("value")):
        request_ref["identifier"] = {k: idents[0][k] for k in ("system", "value") if _str(idents[0].get(k))}
    else:
        request_ref["display"] = f"CoverageEligibilityRequest/{_str(body.get('id')) or 'submitted'}"[:200]
    query = EligibilityQuery(purpose=purpose, as_of=as_of, limit_consent=limit_consent, request_ref=request_ref)

    card = _extension(body, R.EXT_CARD_SERIAL)
    if card is not None:
        serial = _str(card.get("valueString"))
        if not serial:
            errors.append(FieldError("extension[card-serial].valueString", "is required"))
        identity_ext = _extension(body, R.EXT_IDENTITY)
        identity = _str(identity_ext.get("valueCode")) if identity_ext else "face"
        if identity not in IDENTITIES:
            errors.append(FieldError("extension[card-identity].valueCode", f"must be one of {', '.join(IDENTITIES)}"))
        if errors:
            raise InputError(errors)
        query.card_serial, query.identity = serial, identity
        return query

    patient = resolve(body.get("patient"), "patient")
    birth = _dict(patient).get("birthDate")
    if birth is None:
        errors.append(FieldError("patient.birthDate", "is required (a contained Patient with birthDate)"))
    insurance = _list(body.get("insurance"))
    coverage = resolve(_dict(insurance[0]).get("coverage"), "insurance[0].coverage") if insurance else None
    if coverage is None:
        errors.append(FieldError("insurance[0].coverage", "is required (a contained JP_Coverage), or the card-serial extension"))
        raise InputError(errors)
    ext = {url: _str((_extension(coverage, url) or {}).get("valueString")) for url in (R.EXT_SYMBOL, R.EXT_NUMBER, R.EXT_BRANCH)}
    member = next((i.get("value") for i in _identifiers(coverage) if i.get("system") == R.MEMBER_ID), None)
    insurer = symbol = number = branch = None
    if isinstance(member, str) and member.count(":") == 3:
        insurer, symbol, number, branch = member.split(":")
    symbol = ext[R.EXT_SYMBOL] if ext[R.EXT_SYMBOL] is not None else symbol
    number = ext[R.EXT_NUMBER] or number
    branch = ext[R.EXT_BRANCH] if ext[R.EXT_BRANCH] is not None else branch
    if not insurer:
        for where, ref in (("insurance[0].coverage.payor[0]", (_list(coverage.get("payor")) or [None])[0]), ("insurer", body.get("insurer"))):
            ref = _dict(ref)
            org = resolve(ref, where) if "reference" in ref else None
            idents = _identifiers(org) or [i for i in [ref.get("identifier")] if isinstance(i, dict)]
            insurer = next((i.get("value") for i in idents if i.get("system") in R.INSURER_SYSTEMS), None)
            if insurer:
                break
    if not insurer:
        errors.append(FieldError("insurer", f"an insurer number (identifier system {R.INSURER_NUMBER}) is required"))
    if not number:
        errors.append(FieldError("insurance[0].coverage.extension[InsuredPersonNumber]", "is required"))
    if errors:
        raise InputError(errors)
    try:
        query.numbers = parse_number_query(insurer, symbol or None, number, branch or None, birth)
    except InputError as exc:
        names = {"insurer_number": "insurer", "symbol": "coverage.extension[InsuredPersonSymbol]", "number": "coverage.extension[InsuredPersonNumber]",
                 "branch": "coverage.extension[InsuredPersonSubNumber]", "birth_date": "patient.birthDate"}
        raise InputError([FieldError(names.get(e.field, e.field), e.reason) for e in exc.errors]) from None
    return query


def _insurance(q, index: int, inforce: bool) -> dict:  # noqa: ANN001
    suffix = "" if index == 0 else f"-{index + 1}"
    return {
        "coverage": {"reference": f"#coverage{suffix}"},
        "inforce": inforce,
        "benefitPeriod": {k: v for k, v in (("start", q.start.isoformat()), ("end", q.end.isoformat() if q.end else None)) if v},
        "item": [{
            "category": {"coding": [{"system": R.BENEFIT_CATEGORY, "code": "30", "display": "Health Benefit Plan Coverage"}]},
            "benefit": [{
                "type": {"coding": [{"system": R.BENEFIT_TYPE, "code": "copay-percent", "display": "Copayment Percent per service"}]},
                "allowedUnsignedInt": q.copay_percent,
            }],
        }],
    }


def response(result: LookupResult, query: EligibilityQuery, *, facility_code: str, reference_number=None) -> dict:  # noqa: ANN001
    """The CoverageEligibilityResponse of a lookup (reference_number: callable(q) → 照会番号)."""
    quals = [q for q in (result.qualification, *result.others) if q is not None]
    contained: list[dict] = []
    if result.person is not None:
        ref = reference_number(quals[0]) if (reference_number and quals) else None
        contained.append(R.patient(result.person, facility_code=facility_code, reference_number=ref, member=quals[0] if quals else None))
    else:
        stub: dict = {"resourceType": "Patient", "id": "patient"}
        if query.numbers:
            stub["birthDate"] = query.numbers.birth_date.isoformat()
        contained.append(stub)
    insurance = []
    valid = result.validity is Validity.VALID
    for i, q in enumerate(quals):
        suffix = "" if i == 0 else f"-{i + 1}"
        contained.append(R.insurer_organization(q, resource_id=f"insurer{suffix}"))
        contained.append(R.coverage(q, resource_id=f"coverage{suffix}", insurer_ref=f"#insurer{suffix}", active=valid))
        insurance.append(_insurance(q, i, valid))
    if quals:
        insurer_ref: dict = {"reference": "#insurer"}
    elif query.numbers:
        insurer_ref = {"identifier": {"system": R.INSURER_NUMBER, "value": R.insurer_number8(query.numbers.insurer_number)}}
    else:
        insurer_ref = {"display": "不明（カードを利用できません）" if result.validity is None else "該当資格なし"}
    out: dict = {
        "resourceType": "CoverageEligibilityResponse",
        "id": uuid.uuid4().hex,
        "contained": contained,
    }
    ext = R.validity_extension(result)
    if ext:
        out["extension"] = ext
    out |= {
        "status": "active",
        "purpose": query.purpose,
        "patient": {"reference": "#patient"},
        "servicedDate": result.as_of.isoformat(),
        "created": config.now().astimezone(config.JST).isoformat(timespec="seconds"),
        "request": query.request_ref,
        "outcome": "error" if result.validity is None else "complete",
        "disposition": result.error_message if result.validity is None else result.validity.label,
        "insurer": insurer_ref,
    }
    if insurance:
        out["insurance"] = insurance
    if result.validity is None:
        out["error"] = [{"code": {"coding": [{"system": R.ERROR_SYSTEM, "code": result.error or "error"}], "text": result.error_message or "カードを利用できません"}}]
    return out


def operation_outcome(errors: list[FieldError] | None, *, code: str = "invalid", text: str | None = None) -> dict:
    issues = [{"severity": "error", "code": code, "diagnostics": e.reason, "expression": [e.field]} for e in errors or []]
    if not issues:
        issues = [{"severity": "error", "code": code, "diagnostics": text or "error"}]
    return {"resourceType": "OperationOutcome", "issue": issues}
