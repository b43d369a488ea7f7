"""FHIR R4 resources (JP Core profiles) built from a registry `LookupResult`.

Plain dicts (JSON-ready): the server does not depend on a FHIR library; the tests validate
every output with fhir.resources' R4B models.

Conventions (JP Core v1.x, jpfhir.jp):
- Coverage as JP_Coverage: extensions 記号 / 番号 / 枝番 (JP_Coverage_InsuredPersonSymbol,
  …Number, …SubNumber; 記号 and 番号 full-width as the profile asks, 枝番 two half-width
  digits); the 被保険者個人識別子 as identifier (system JP_Insurance_memberID, value
  `保険者番号8桁:記号:番号:枝番`, the insurer number zero-padded to 8, 記号 and 番号 kept
  half-width when they are ASCII only — the identifier spec allows either width but not a
  mix); subscriberId `記号:番号`; dependent = 枝番; relationship 本人/家族 both in HL7's
  subscriber-relationship (self / other) and MHLW's 被保険者区分 (1 被保険者, 2 被扶養者);
  period = the qualification's first and last covered day; payor = the insurer.
- The insurer as JP_Organization with the 保険者番号 (8 digits, 国保 zero-padded as in the
  member identifier) under both systems in use: urn:oid:1.2.392.100495.20.3.61 (the MHLW OID
  earlier JP Core versions used) and http://jpfhir.jp/fhir/core/mhlw/IdSystem/InsurerNumber
  (JP Core v1.x NamingSystem jp-insurer-identifier, input/fsh/namingSystemForIdentifier.fsh
  of jami-fhir-jp-wg/jp-core-v1x). Either is accepted on input.
- Coverage.period: the dates of what the patient holds for the qualification — the
  資格確認書's 有効開始日〜有効終了日, else the qualification's first (and last) day — the same
  dates the terminal writes as InsuredCardValidDate / InsuredCardExpirationDate.
- The 限度額 category (only when the patient consented): the extension
  urn:onshi:fhir:StructureDefinition:limit-application-certificate with `category` (the OQS
  LimitApplicationCertificateClassificationFlag, A01–B10), `certificate` (01–03), `issued`
  and `period` — JP Core has no element for it.
- Patient as JP_Patient: name with the iso21090 representation (IDE = kanji, SYL = kana),
  ● kept as the registry returns it (R-D4), no address for DV-flagged members (R-D5);
  a facility's 照会番号 as its patient number (system urn:oid:1.2.392.100495.20.3.51.1 +
  the 10-digit 医療機関コード). No 個人番号, ever.
- The copay ratio: Coverage.costToBeneficiary (coverage-copay-type#copaypct, a % quantity)
  and, in a CoverageEligibilityResponse, insurance.item.benefit (benefit-type#copay-percent,
  allowedUnsignedInt in percent).
"""

from __future__ import annotations

import datetime as dt

from ...domain.numbers import normalise_insurer_number
from ...registry.lookup import LookupResult, PersonView, QualificationView
from ..oqs_xml import codes as oqs

JP_CORE = "http://jpfhir.jp/fhir/core/StructureDefinition"
JP_COVERAGE = f"{JP_CORE}/JP_Coverage"
JP_PATIENT = f"{JP_CORE}/JP_Patient"
JP_ORGANIZATION = f"{JP_CORE}/JP_Organization"
EXT_SYMBOL = "http://jpfhir.jp/fhir/core/Extension/StructureDefinition/JP_Coverage_InsuredPersonSymbol"
EXT_NUMBER = "http://jpfhir.jp/fhir/core/Extension/StructureDefinition/JP_Coverage_InsuredPersonNumber"
EXT_BRANCH = "http://jpfhir.jp/fhir/core/Extension/StructureDefinition/JP_Coverage_InsuredPersonSubNumber"
MEMBER_ID = "http://jpfhir.jp/fhir/clins/Idsystem/JP_Insurance_memberID"
INSURER_NUMBER = "urn:oid:1.2.392.100495.20.3.61"
INSURER_NUMBER_JP_CORE = "http://jpfhir.jp/fhir/core/mhlw/IdSystem/InsurerNumber"
INSURER_SYSTEMS = (INSURER_NUMBER, INSURER_NUMBER_JP_CORE)
FACILITY_NUMBER = "http://jpfhir.jp/fhir/core/IdSystem/insurance-medical-institution-no"
PATIENT_ID_PREFIX = "urn:oid:1.2.392.100495.20.3.51.1"  # + 医療機関コード (10 digits): the facility's patient number
NAME_REPRESENTATION = "http://hl7.org/fhir/StructureDefinition/iso21090-EN-representation"
INSURED_CATEGORY = "urn:oid:1.2.392.100495.20.2.62"  # 被保険者区分: 1 被保険者, 2 被扶養者
SUBSCRIBER_RELATIONSHIP = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"
COPAY_TYPE = "http://terminology.hl7.org/CodeSystem/coverage-copay-type"
BENEFIT_TYPE = "http://terminology.hl7.org/CodeSystem/benefit-type"
BENEFIT_CATEGORY = "http://terminology.hl7.org/CodeSystem/ex-benefitcategory"
ORGANIZATION_TYPE = "http://terminology.hl7.org/CodeSystem/organization-type"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
UCUM = "http://unitsofmeasure.org"
# onshi's own: the card of a マイナ保険証 lookup and the OQS QualificationValidity.
ONSHI = "urn:onshi:fhir"
EXT_CARD_SERIAL = f"{ONSHI}:StructureDefinition:card-serial"  # valueString on a CoverageEligibilityRequest
EXT_IDENTITY = f"{ONSHI}:StructureDefinition:card-identity"  # valueCode face | pin | visual | none
EXT_LIMIT_CONSENT = f"{ONSHI}:StructureDefinition:limit-consent"  # valueBoolean: return 限度額 data
EXT_VALIDITY = f"{ONSHI}:StructureDefinition:qualification-validity"  # valueCoding on the response
VALIDITY_SYSTEM = f"{ONSHI}:CodeSystem:qualification-validity"  # 1 有効 … 5 複数該当 (OQS codes)
ERROR_SYSTEM = f"{ONSHI}:CodeSystem:lookup-error"  # card_not_found, cert_expired, … (registry CARD_ERRORS)
EXT_LIMIT = f"{ONSHI}:StructureDefinition:limit-application-certificate"  # 限度額適用認定証 data (with consent)
LIMIT_CATEGORY_SYSTEM = f"{ONSHI}:CodeSystem:limit-category"  # OQS LimitApplicationCertificateClassificationFlag
LIMIT_CERTIFICATE_SYSTEM = f"{ONSHI}:CodeSystem:limit-certificate"  # OQS LimitApplicationCertificateClassification

_GENDER = {1: "male", 2: "female", 3: "unknown"}


def fullwidth(text: str) -> str:
    """ASCII → full-width (JP_Coverage 記号/番号 extensions): 12-34 → １２－３４."""
    return "".join(chr(ord(c) + 0xFEE0) if 0x21 <= ord(c) <= 0x7E else ("\u3000" if c == " " else c) for c in text)


def insurer_number8(value: str) -> str:
    """8 digits; a 6-digit 国保 number zero-padded (被保険者個人識別子 convention)."""
    text = normalise_insurer_number(value)
    return text.zfill(8)


def _one_width(text: str) -> str:
    return text if text.isascii() else fullwidth(text)


def member_identifier(q: QualificationView) -> str:
    """被保険者個人識別子: 保険者番号:記号:番号:枝番 (an absent 記号 or 枝番 is empty)."""
    return ":".join((insurer_number8(q.insurer_number), _one_width(q.symbol or ""), _one_width(q.number), q.branch or ""))


def _date(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _name_parts(name: str) -> tuple[str | None, list[str]]:
    parts = name.replace("\u3000", " ").split()
    if len(parts) >= 2:
        return parts[0], [" ".join(parts[1:])]
    return None, []


def _human_name(text: str, representation: str) -> dict:
    family, given = _name_parts(text)
    out: dict = {"extension": [{"url": NAME_REPRESENTATION, "valueCode": representation}], "use": "official", "text": text}
    if family:
        out["family"] = family
        out["given"] = given
    return out


def patient(person: PersonView, *, resource_id: str = "patient", facility_code: str | None = None, reference_number: str | None = None,
            member: QualificationView | None = None) -> dict:
    out: dict = {"resourceType": "Patient", "id": resource_id, "meta": {"profile": [JP_PATIENT]}}
    identifiers = []
    if reference_number and facility_code:
        identifiers.append({"system": f"{PATIENT_ID_PREFIX}{facility_code}", "value": reference_number})
    if member is not None:
        identifiers.append({"system": MEMBER_ID, "value": member_identifier(member)})
    if identifiers:
        out["identifier"] = identifiers
    out["name"] = [_human_name(person.name, "IDE"), _human_name(person.kana, "SYL")]  # ● kept (R-D4)
    out["gender"] = _GENDER.get(person.sex, "unknown")
    out["birthDate"] = person.birth_date.isoformat()
    if person.address is not None:  # R-D5: never for DV-flagged members
        address: dict = {"text": person.address}
        if person.postcode:
            address["postalCode"] = person.postcode
        address["country"] = "JP"
        out["address"] = [address]
    return out


def insurer_organization(q: QualificationView, *, resource_id: str = "insurer") -> dict:
    out = {
        "resourceType": "Organization",
        "id": resource_id,
        "meta": {"profile": [JP_ORGANIZATION]},
        "identifier": [{"system": system, "value": insurer_number8(q.insurer_number)} for system in INSURER_SYSTEMS],
        "type": [{"coding": [{"system": ORGANIZATION_TYPE, "code": "pay", "display": "Payer"}]}],
    }
    if q.insurer_name:
        out["name"] = q.insurer_name
    return out


def facility_organization(code: str, name: str | None, *, resource_id: str = "facility") -> dict:
    out = {
        "resourceType": "Organization",
        "id": resource_id,
        "meta": {"profile": [JP_ORGANIZATION]},
        "identifier": [{"system": FACILITY_NUMBER, "value": code}],
        "type": [{"coding": [{"system": ORGANIZATION_TYPE, "code": "prov", "display": "Healthcare Provider"}]}],
    }
    if name:
        out["name"] = name
    return out


def copay_quantity(percent: int) -> dict:
    return {"value": percent, "unit": "%", "system": UCUM, "code": "%"}


def limit_extension(q: QualificationView) -> dict | None:
    """The 限度額適用認定証 data of a qualification (present only when the patient consented)."""
    if not q.limit_category:
        return None
    certificate = oqs.limit_certificate(q.limit_category)
    parts: list[dict] = [
        {"url": "category", "valueCoding": {"system": LIMIT_CATEGORY_SYSTEM, "code": q.limit_category,
                                            "display": oqs.LIMIT_CATEGORIES.get(q.limit_category, q.limit_category)}},
        {"url": "certificate", "valueCoding": {"system": LIMIT_CERTIFICATE_SYSTEM, "code": certificate, "display": oqs.LIMIT_CERTIFICATES[certificate]}},
    ]
    if q.limit_issued:
        parts.append({"url": "issued", "valueDate": q.limit_issued.isoformat()})
    period = {k: v for k, v in (("start", _date(q.limit_start)), ("end", _date(q.limit_end))) if v}
    if period:
        parts.append({"url": "period", "valuePeriod": period})
    return {"url": EXT_LIMIT, "extension": parts}


def coverage(q: QualificationView, *, resource_id: str = "coverage", patient_ref: str = "#patient", insurer_ref: str = "#insurer",
             active: bool = True, validity: LookupResult | None = None) -> dict:
    """JP_Coverage of one qualification. `active` False: status cancelled (an ended one).
    `validity`: the lookup, whose QualificationValidity goes on the Coverage as an extension."""
    extensions = []
    if q.symbol:
        extensions.append({"url": EXT_SYMBOL, "valueString": fullwidth(q.symbol)})
    extensions.append({"url": EXT_NUMBER, "valueString": fullwidth(q.number)})
    if q.branch:
        extensions.append({"url": EXT_BRANCH, "valueString": q.branch})
    limit = limit_extension(q)
    if limit:
        extensions.append(limit)
    if validity is not None:
        extensions += validity_extension(validity)
    family = q.relation == "family"
    out: dict = {
        "resourceType": "Coverage",
        "id": resource_id,
        "meta": {"profile": [JP_COVERAGE]},
        "extension": extensions,
        "identifier": [{"system": MEMBER_ID, "value": member_identifier(q), "assigner": {"reference": insurer_ref}}],
        "status": "active" if active else "cancelled",
        "type": {"coding": [{"system": ACT_CODE, "code": "PUBLICPOL", "display": "public healthcare"}]},
        "subscriberId": f"{q.symbol}:{q.number}",
        "beneficiary": {"reference": patient_ref},
        "relationship": {"coding": [
            {"system": SUBSCRIBER_RELATIONSHIP, "code": "other" if family else "self"},
            {"system": INSURED_CATEGORY, "code": "2" if family else "1", "display": "被扶養者" if family else "被保険者"},
        ]},
        "period": {k: v for k, v in (("start", _date(q.certificate_valid_from or q.start)), ("end", _date(q.certificate_valid_to))) if v},
        "payor": [{"reference": insurer_ref}],
        "costToBeneficiary": [{
            "type": {"coding": [{"system": COPAY_TYPE, "code": "copaypct", "display": "Copay Percentage"}]},
            "valueQuantity": copay_quantity(q.copay_percent),
        }],
    }
    if q.branch:
        out["dependent"] = q.branch
    return out


def validity_extension(result: LookupResult) -> list[dict]:
    if result.validity is None:
        return []
    return [{"url": EXT_VALIDITY, "valueCoding": {"system": VALIDITY_SYSTEM, "code": result.validity.code, "display": result.validity.label}}]
