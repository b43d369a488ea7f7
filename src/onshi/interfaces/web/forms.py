"""Form fields → the typed inputs of the front desk and the insurer operations, and their
errors → the form fields that caused them. No rule lives here: the inputs go to
`record_visit` and `Registry.operate`, which validate them."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import uuid
from collections.abc import Mapping

from ...domain.dates import parse_date
from ...domain.errors import FieldError, InputError, ServiceError
from ...domain.wareki import parse_wareki
from . import labels

DOC_FIELDS = ("insurer_number", "symbol", "number", "branch")
REMARK_FIELDS = ("insurance_kind", "insurer_name", "employer", "address", "phone", "contacted_on")


class FormData(dict):
    """Submitted values: str for single fields, list[str] for the multi-valued ones."""

    @classmethod
    def of(cls, form: Mapping, multi: tuple[str, ...] = ()) -> "FormData":
        out = cls()
        for k in form.keys():
            if k in multi:
                out[k] = [str(v) for v in form.getlist(k)]
            else:
                value = form.get(k)
                out[k] = value.strip() if isinstance(value, str) else ""
        return out

    def text(self, key: str) -> str | None:
        value = self.get(key)
        return value if isinstance(value, str) and value != "" else None


def parse_day(value: str, field: str) -> dt.date:
    """A date typed at the desk: 2026-05-12, 20260512, 令和8年5月12日, R8.5.12, S55.6.15."""
    text = unicodedata.normalize("NFKC", value).strip()
    if re.match(r"^\d{4}[/.]\d{1,2}[/.]\d{1,2}$", text):
        y, m, d = re.split(r"[/.]", text)
        text = f"{int(y):04d}-{int(m):02d}-{int(d):02d}"
    elif re.match(r"^\d{4}-\d{1,2}-\d{1,2}$", text):
        y, m, d = text.split("-")
        text = f"{int(y):04d}-{int(m):02d}-{int(d):02d}"
    if text[:1].isdigit() and not re.match(r"^[1-5]\d{6}$", text):
        return parse_date(text, field)
    return parse_wareki(text, field)


class Errors(dict):
    """form field → Japanese messages; `summary` lists every error with its field named."""

    def add(self, field: str, reason: str) -> None:
        self.setdefault(field, []).append(labels.reason(reason))

    def extend(self, errors: list[FieldError], rename=lambda f: f) -> None:  # noqa: ANN001
        for e in errors:
            self.add(rename(e.field), e.reason)

    def ordered(self, fields: tuple[str, ...]) -> "Errors":
        """The same errors in the order of the form's fields (others last)."""
        rank = {f: i for i, f in enumerate(fields)}
        return Errors(sorted(self.items(), key=lambda kv: rank.get(kv[0], len(rank))))

    @property
    def summary(self) -> list[tuple[str, str, str]]:
        return [(f, labels.field_label(f), msg) for f, msgs in self.items() for msg in msgs]


def _dates(form: FormData, fields: tuple[str, ...], errors: Errors) -> dict[str, str]:
    out = {}
    for f in fields:
        raw = form.text(f)
        if raw is None:
            continue
        try:
            out[f] = parse_day(raw, f).isoformat()
        except InputError as exc:
            errors.extend(exc.errors)
    return out


# ---------------------------------------------------------------- the reception desk


def visit_request(form: FormData) -> tuple[dict, Errors]:
    """The body of a VisitRequest from the 受付画面; dates that cannot be read are errors."""
    errors = Errors()
    presented = [k for k in labels.PRESENTED if k in form.get("presented", [])]
    dates = _dates(form, ("birth_date", "document.issued", "document.valid_from", "document.expires", "remarks.contacted_on"), errors)
    body: dict = {
        "patient_ref": form.text("patient_ref") or "",
        "presented": presented,
        "device": form.text("device") or "ok",
        "identity": form.text("identity") or "face",
        "consent": form.get("consent") == "1",
    }
    if any(k in presented for k in labels.CARD_KINDS) and form.text("card_serial"):
        body["card_serial"] = unicodedata.normalize("NFKC", form.text("card_serial")).upper()
    docs = [k for k in presented if k in labels.DOCUMENT_KINDS]
    numbers = {f: form.text(f"document.{f}") for f in DOC_FIELDS}
    if docs and any(numbers.values()):
        base = {f: v or "" for f, v in numbers.items()}
        for kind in docs:
            doc = {"kind": kind, **base}
            if kind in ("eligibility_certificate", "insurance_card"):
                doc |= {k: dates[f"document.{k}"] for k in ("issued", "valid_from", "expires") if f"document.{k}" in dates}
            body.setdefault("documents", []).append(doc)
    declared = {f: form.text(f"declared.{f}") for f in DOC_FIELDS}
    if any(declared.values()):
        body["declared"] = {f: v or "" for f, v in declared.items()}
    if "birth_date" in dates:
        body["birth_date"] = dates["birth_date"]
    for f in ("name", "kana"):
        if form.text(f):
            body[f] = form.text(f)
    if form.text("sex") in ("1", "2"):
        body["sex"] = int(form.text("sex"))
    if form.text("relation") in labels.RELATION:
        body["relation"] = form.text("relation")
    remarks = {f: form.text(f"remarks.{f}") for f in REMARK_FIELDS if f != "contacted_on" and form.text(f"remarks.{f}")}
    if "remarks.contacted_on" in dates:
        remarks["contacted_on"] = dates["remarks.contacted_on"]
    if remarks:
        body["remarks"] = remarks
    return body, errors


RECEPTION_ORDER = (
    "patient_ref", "relation", "birth_date", "presented", "card_serial", "identity", "device", "consent", "documents",
    *(f"document.{f}" for f in (*DOC_FIELDS, "issued", "valid_from", "expires")), *(f"declared.{f}" for f in DOC_FIELDS),
    "name", "kana", "sex", *(f"remarks.{f}" for f in REMARK_FIELDS),
)


def visit_field(path: str) -> str:
    """An error's field in the VisitRequest → the form field (documents.0.number → document.number)."""
    return re.sub(r"^documents\.\d+\.", "document.", path)


# ---------------------------------------------------------------- the insurer's operations

OPERATION_FIELDS = {
    "acquisition": {
        "text": ("my_number", "name", "kana", "address", "postcode", "insured_name", "symbol", "number", "branch", "mailing_address", "mailing_postcode"),
        "dates": ("birth_date", "start", "notified"),
        "choice": ("sex", "relation", "income", "kouki_ratio"),
        "flags": ("dv_flag",),
    },
    "change": {
        "text": ("symbol", "number", "branch", "new_symbol", "new_number", "new_branch", "name", "kana", "address", "postcode", "insured_name",
                 "mailing_address", "mailing_postcode"),
        "dates": ("notified",),
        "choice": ("relation", "income", "kouki_ratio", "dv_flag"),
        "flags": (),
    },
    "loss": {
        "text": ("symbol", "number", "branch"),
        "dates": ("end", "notified"),
        "choice": ("loss_reason",),
        "flags": (),
    },
    # issuance (保険者画面・交付): an application for a 資格確認書, 利用登録解除, カード返納
    "application": {"text": ("symbol", "number", "branch"), "dates": ("date",), "choice": ("reason",), "flags": ()},
    "card_cancellation": {"text": ("serial",), "dates": ("cancelled_on",), "choice": (), "flags": ()},
    "card_return": {"text": ("serial",), "dates": ("returned_on",), "choice": (), "flags": ()},
}
MEMBER_OPERATIONS = ("acquisition", "change", "loss")  # the 保険者画面's forms; the others are on the 交付 page
OPERATION_ORDER = {
    "acquisition": ("my_number", "name", "kana", "birth_date", "sex", "address", "postcode", "symbol", "number", "branch", "relation",
                    "insured_name", "start", "notified", "income", "kouki_ratio", "dv_flag", "mailing_address", "mailing_postcode"),
    "change": ("symbol", "number", "branch", "notified", "name", "kana", "address", "postcode", "new_symbol", "new_number", "new_branch",
               "relation", "income", "kouki_ratio", "dv_flag", "mailing_address", "mailing_postcode"),
    "loss": ("symbol", "number", "branch", "end", "notified", "loss_reason"),
    "application": ("symbol", "number", "branch", "date", "reason"),
    "card_cancellation": ("serial", "cancelled_on"),
    "card_return": ("serial", "returned_on"),
}
INT_CHOICES = ("sex", "kouki_ratio")
BOOL_CHOICES = ("dv_flag",)


def new_request_id() -> str:
    return f"web-{uuid.uuid4().hex}"


def form_state(failed: bool, values: dict | None, errors: "Errors | None", order: tuple[str, ...], default: dict) -> dict:
    """One form of a page: what was sent back with its errors when it `failed`, else its
    defaults and a fresh request id."""
    return {
        "values": dict(values or {}) if failed else default,
        "errors": errors.ordered(order) if failed and errors is not None else Errors(),
        "request_id": (values or {}).get("request_id") if failed and values else new_request_id(),
    }


def operation_body(kind: str, form: FormData) -> tuple[dict, Errors]:
    """The body of an acquisition / change / loss from its form (fields named `kind.field`);
    the errors are keyed by the form's field names."""
    spec = OPERATION_FIELDS[kind]
    errors = Errors()
    named = FormData({k.split(".", 1)[1]: v for k, v in form.items() if k.startswith(f"{kind}.")})
    body: dict = {"request_id": form.text("request_id") or new_request_id()}
    for f in spec["text"]:
        value = named.text(f)
        if value is not None:
            body[f] = unicodedata.normalize("NFKC", value).upper() if f == "serial" else value
        elif kind in ("acquisition", "application") and f in ("branch", "symbol"):
            body[f] = ""
    date_errors = Errors()
    body |= _dates(named, spec["dates"], date_errors)
    for f, msgs in date_errors.items():
        errors.setdefault(f"{kind}.{f}", []).extend(msgs)
    for f in spec["choice"]:
        value = named.text(f)
        if value is None:
            continue
        if f in INT_CHOICES:
            body[f] = int(value) if value.isdigit() else value
        elif f in BOOL_CHOICES:
            body[f] = value == "true"
        else:
            body[f] = value
    for f in spec["flags"]:
        body[f] = named.get(f) == "1"
    return body, errors


def submit(registry, insurer: str, kind: str, form: FormData):  # noqa: ANN001, ANN201
    """Carry out the insurer operation of form `kind` (`Registry.operate`): (the result or None,
    the body, the errors keyed by the form's fields, the HTTP status). Every field error is
    found before anything is stored."""
    from ...registry import models, operations

    body, errors = operation_body(kind, form)
    rename = lambda f: f"{kind}.{f}"  # noqa: E731
    try:
        models.parse(operations.HANDLERS[kind][1], body)
    except InputError as exc:
        errors.extend([e for e in exc.errors if rename(e.field) not in errors], rename)
    if errors:
        return None, body, errors, 422
    try:
        result = registry.operate(insurer, kind, body)
    except (InputError, ServiceError) as exc:
        errors.extend(service_errors(exc), rename)
        return None, body, errors, exc.status if isinstance(exc, ServiceError) else 422
    return result, body, errors, 200 if result.replayed else 201


def service_errors(exc: ServiceError | InputError) -> list[FieldError]:
    if isinstance(exc, InputError):
        return exc.errors
    return [FieldError(exc.field or "body", exc.reason)]


# ---------------------------------------------------------------- issuance settings

SETTINGS_ORDER = ("options.certificate_to_all", "options.annual_end", "options.certificate_years", "options.certificate_until",
                  "certificate_form", "issuer_name", "sender_postcode", "sender_address", "phone")


def settings_body(form: FormData) -> tuple[dict, Errors]:
    """The body of IssuanceSettings from the 交付の設定 form (an empty field: the policy default)."""
    errors = Errors()
    options: dict = {}
    if form.text("options.certificate_to_all") == "1":
        options["certificate_to_all"] = True
    term = form.text("options.term")  # how certificates end: default | annual | years | until
    if term == "annual":
        options["annual_end"] = form.text("options.annual_end") or ""
    elif term == "years":
        options["annual_end"] = None
        years = form.text("options.certificate_years") or ""
        options["certificate_years"] = int(years) if years.isdigit() else years
    elif term == "until":
        dates = _dates(form, ("options.certificate_until",), errors)
        options["certificate_until"] = dates.get("options.certificate_until", form.text("options.certificate_until") or "")
    body: dict = {"request_id": form.text("request_id") or new_request_id(), "options": options,
                  "certificate_form": form.text("certificate_form") or "card"}
    for f in ("issuer_name", "sender_postcode", "sender_address", "phone"):
        if form.text(f):
            body[f] = form.text(f)
    return body, errors


def settings_values(settings: dict) -> dict:
    """The 交付の設定 form filled with an insurer's settings (Settings.to_json)."""
    options = settings["options"]
    term = "until" if options.get("certificate_until") else "years" if "certificate_years" in options or options.get("annual_end", "x") is None \
        else "annual" if options.get("annual_end") else "default"
    values = {"options.term": term, "options.certificate_to_all": "1" if options.get("certificate_to_all") else "",
              "options.annual_end": options.get("annual_end") or "", "options.certificate_years": str(options.get("certificate_years") or ""),
              "options.certificate_until": options.get("certificate_until") or "", "certificate_form": settings["certificate_form"]}
    for f in ("issuer_name", "sender_postcode", "sender_address", "phone"):
        values[f] = settings.get(f) or ""
    return values
