"""What the pages show, built from what the services return: the registry's answer to the
lookups of a visit, the 被保険者資格申立書 of a 不詳 visit, the policy on a date. Pure."""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field

from ...domain import charset
from ...domain.wareki import era_year, format_wareki
from ...policy import Policy
from ...registry.lookup import LookupResult
from . import labels

SHEET_ERAS = ("明治", "大正", "昭和", "平成", "令和")


def lookup_observer(lookups: list[LookupResult], facility_code: str, registry):  # noqa: ANN001, ANN201
    """The `on_lookup` hook of a reception-page visit: keeps each answer (already logged by
    the registry) for the page, and — when ONSHI_TERMINAL_DIR names this facility's terminal
    folder — writes the face/ file a real terminal writes for a card read (issue 4)."""
    terminal_dir = os.environ.get("ONSHI_TERMINAL_DIR", "").replace("{facility}", facility_code)

    def observe(kind: str, result: LookupResult) -> None:
        lookups.append(result)
        if kind == "card" and terminal_dir:
            from ..oqs_xml.service import OqsService
            from ..oqs_xml.terminal import Terminal

            Terminal(OqsService(registry), terminal_dir, facility_code).write_face(result)

    return observe


def registry_person(lookups: list[LookupResult]):  # noqa: ANN201
    """The person as the registry returned them (first lookup that identified someone)."""
    return next((r.person for r in lookups if r.person is not None), None)


# ---------------------------------------------------------------- the visit as the desk entered it


@dataclass
class VisitView:
    """The visit's identity data for the page: from the form and the registry (POST), or
    from the stored visit (later). Names pass through the system's ● mask (R-D4)."""

    visit_id: int
    patient_ref: str
    care_date: dt.date
    presented: list[str]
    device: str
    identity: str | None
    relation: str | None
    name: str | None
    kana: str | None
    birth_date: dt.date | None
    sex: int | None
    address: str | None  # never a DV-flagged member's registry address (R-D5)
    remarks: dict = field(default_factory=dict)
    at: dt.datetime | None = None


def visit_from_request(decision: dict, body: dict, lookups: list[LookupResult], repertoire: str | None) -> VisitView:
    person = registry_person(lookups)
    remarks = body.get("remarks") or {}
    birth = body.get("birth_date")
    return VisitView(
        visit_id=decision["visit_id"],
        patient_ref=body["patient_ref"],
        care_date=dt.date.fromisoformat(decision["date"]),
        presented=list(body.get("presented", [])),
        device=body.get("device", "ok"),
        identity=body.get("identity") if any(k in labels.CARD_KINDS for k in body.get("presented", [])) else None,
        # 本人/家族 as the clerk asked it, else as the registry returned it (a typed document's is unknown)
        relation=body.get("relation") or (decision["claim"].get("relation") if decision["claim"]["basis"] in ("current", "lost") else None),
        name=charset.mask(body.get("name"), repertoire) if body.get("name") else (person.name if person else None),
        kana=body.get("kana") or (person.kana if person else None),
        birth_date=dt.date.fromisoformat(birth) if birth else (person.birth_date if person else None),
        sex=body.get("sex") or (person.sex if person else None),
        address=remarks.get("address") or (person.address if person else None),
        remarks=remarks,
    )


def visit_from_row(row: dict, repertoire: str | None) -> VisitView:
    """A stored visit: it keeps what the desk entered (or the card holder's name); the
    registry's address is not stored with it, so only an address the patient gave shows."""
    remarks = json.loads(row["remarks"]) if row.get("remarks") else {}
    return VisitView(
        visit_id=row["id"],
        patient_ref=row["patient_ref"],
        care_date=row["care_date"],
        presented=(row["presented"] or "").split(),
        device=row["device"],
        identity=row["identity"],
        relation=row["relation"],
        name=charset.mask(row["name"], repertoire),
        kana=row["kana"],
        birth_date=row["birth_date"],
        sex=row["sex"],
        address=remarks.get("address"),
        remarks=remarks,
        at=row["at"],
    )


# ---------------------------------------------------------------- 被保険者資格申立書 (seed 002, 別紙様式)


def declaration_sheet(visit: VisitView, facility: dict, decision: dict) -> dict:
    """The form pre-filled with what is known; everything else is left for the patient."""
    era = year = None
    if visit.birth_date is not None:
        e, y = era_year(visit.birth_date)
        era, year = e.name, y
    remarks = visit.remarks or {}
    return {
        "care_date": visit.care_date,
        "facility_name": facility.get("name", ""),
        "facility_code": facility.get("code", ""),
        "patient_ref": visit.patient_ref,
        "name": visit.name or "",
        "kana": visit.kana or "",
        "era": era,
        "eras": SHEET_ERAS,
        "year": year,
        "month": visit.birth_date.month if visit.birth_date else None,
        "day": visit.birth_date.day if visit.birth_date else None,
        "sex": visit.sex,
        "address": visit.address or "",
        "insurance_kind": remarks.get("insurance_kind"),
        "insurance_kinds": ("社保", "国保", "後期", "その他", "わからない"),
        "insurer_name": remarks.get("insurer_name") or "",
        "employer": remarks.get("employer") or "",
        "phone": remarks.get("phone") or "",
        "relation": visit.relation,
        "claim_insurer": decision["claim"].get("insurer"),
    }


# ---------------------------------------------------------------- 制度カレンダー


def policy_calendar(policy: Policy, day: dt.date) -> list[dict]:
    """Every dated rule with its periods and sources, and whether each is in force on `day`."""
    out = []
    for name, rule in sorted(policy.rules.items(), key=lambda kv: (_rule_order(kv[1].rule), kv[0])):
        entries = []
        for e in rule.entries:
            state = "in_force" if e.in_force(day) else ("ended" if e.end is not None and e.end < day else "future")
            entries.append({
                "start": e.start, "end": e.end, "state": state, "value": policy_value(e.value, labels.POLICY_UNITS.get(name, "")), "scope": policy_scope(e.scope),
                "note": e.note, "source": e.source.cite(), "source_title": e.source.title, "file": e.file,
            })
        in_force = [x for x in entries if x["state"] == "in_force"]
        ended = [x for x in entries if x["state"] == "ended"]
        future = [x for x in entries if x["state"] == "future"]
        last_end = max((x["end"] for x in in_force if x["end"] is not None), default=None) if in_force and all(x["end"] for x in in_force) else None
        latest = in_force[-1] if in_force else None
        out.append({
            "now": (latest["value"] or "、".join(latest["scope"])) if latest else "",
            "name": name, "rule": rule.rule, "label": labels.POLICY_NAMES.get(name, name), "title": policy.title(rule.rule),
            "description": rule.description, "entries": entries, "in_force": bool(in_force),
            "until": last_end,
            "ended_on": max((x["end"] for x in ended), default=None) if not in_force else None,
            "starts_on": min((x["start"] for x in future), default=None) if not in_force else None,
        })
    return out


def _rule_order(rule_id: str) -> tuple:
    return (0 if rule_id.startswith("R-T") else 1, rule_id)


def policy_scope(scope: dict) -> list[str]:
    out = []
    insurers = scope.get("insurers")
    if insurers is not None:
        items = [insurers] if isinstance(insurers, str) else list(insurers)
        out.append("対象保険者: " + "・".join(labels.POLICY_INSURERS.get(str(i), str(i)) for i in items))
    documents = scope.get("documents")
    if documents:
        out.append("対象: " + "・".join(labels.POLICY_DOCUMENTS.get(str(d), str(d)) for d in documents))
    for k, v in scope.items():
        if k not in ("insurers", "documents", "rule"):
            out.append(f"{k}: {v}")
    return out


def _item(key: str, value: object, unit: str) -> str:
    if key == "automatic_age" and isinstance(value, int):
        return "全員" if value == 0 else f"{value}歳以上"
    return policy_value(value, unit)


def policy_value(value: object, unit: str = "") -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "あり" if value else "なし"
    if isinstance(value, int | float):
        return f"{value}{unit}"
    if isinstance(value, dict):
        return "、".join(f"{labels.POLICY_VALUE_KEYS.get(str(k), str(k))}: {_item(str(k), v, unit)}" for k, v in value.items())
    if isinstance(value, list):
        if value and all(isinstance(v, list) for v in value):
            return " ／ ".join("＋".join(labels.PRESENTED_SHORT.get(str(x), str(x)) for x in v) for v in value)
        return "・".join(policy_value(v) for v in value)
    if isinstance(value, dt.date):
        return format_wareki(value, with_seireki=True)
    return labels.POLICY_VALUE_WORDS.get(str(value), str(value))


def milestones(policy: Policy) -> list[dt.date]:
    """The days the transition rules (R-T…) change: each period's first and last day, and
    the day after it ends."""
    days: set[dt.date] = set()
    for rule in policy.rules.values():
        if not rule.rule.startswith("R-T"):
            continue
        for e in rule.entries:
            days.add(e.start)
            if e.end is not None:
                days |= {e.end, e.end + dt.timedelta(days=1)}
    return sorted(days)


# ---------------------------------------------------------------- the lookups of a visit


def lookup_rows(lookups: list[LookupResult], presented: list[str]) -> list[dict]:
    card = "マイナ保険証" if "my_number_card" in presented or "smartphone" not in presented else "スマホ保険証"
    rows = []
    for r in lookups:
        if r.validity is not None:
            result = labels.RESULT.get(r.validity.value, r.validity_label or "")
        else:
            result = labels.CARD_ERROR.get(r.error or "", r.error or "照会できませんでした")
        rows.append({
            "label": f"{card}で照会" if r.method == "card" else "被保険者番号等で照会",
            "result": result, "qualification": r.qualification, "card": r.card,
        })
    return rows


def remark_values(visit: VisitView) -> dict[str, str | None]:
    """What the desk knows for each item of the 不詳 remarks (R-E1)."""
    r = visit.remarks or {}
    contacted = r.get("contacted_on")
    return {
        "不詳": "不詳", "カナ氏名": visit.kana, "保険種別": r.get("insurance_kind"), "保険者名": r.get("insurer_name"),
        "事業所名": r.get("employer"), "住所": visit.address, "連絡先電話番号": r.get("phone"),
        "連絡日": format_wareki(dt.date.fromisoformat(contacted), with_seireki=True) if contacted else None,
    }


# A visit recorded by `onshi simulate` keeps its decision without the explanation (stats/simulate.py).
SIMULATED_EXPLANATION = {
    "summary": "", "charge": "", "claim": "シミュレーションで作成した受付です（判定の説明は記録していません）。", "tell_patient": [],
    "steps": [], "medical_info": "",
}
