"""What the insurer operations record for the issuance run (issue 12; ISSUANCE.md R-I4a,
R-I4b, R-I5, R-I7c): one `member_event` row per fact, dated the day it takes effect and the
day it was recorded (a run on day D sees what was recorded by D).

- acquisition (R-I4a): date = the first day covered; and registration_done (R-I5), since the
  registry's acquisition is the registration in the central system;
- numbers_changed (記号・番号・枝番; with registration_done: the card answers with new numbers),
  name_changed (氏名・カナ), copay_changed (後期 ratio, or the income that sets the 70+ ratio):
  R-I4b — dated the day the insurer was notified, the nearest the operation knows;
- loss (R-I7c): date = the last day covered;
- dv_flag: the insurer set or lifted its 自己情報提供不可フラグ (R-I3e), dated the day recorded.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from sqlalchemy import Connection, insert

from .schema import member_event

# The operation's fields whose change sends a new document (R-I4b), by event.
CHANGE_FIELDS = {
    "numbers_changed": ("symbol", "number", "branch"),
    "name_changed": ("name", "kana"),
    "copay_changed": ("kouki_ratio", "income"),
}
EVENT_KINDS = ("acquisition", *CHANGE_FIELDS, "registration_done", "loss", "dv_flag")


def record_event(conn: Connection, qualification_id: int, insurer_number: str, kind: str, date: dt.date, recorded: dt.date) -> None:
    if kind not in EVENT_KINDS:
        raise ValueError(f"unknown member event '{kind}'")
    conn.execute(insert(member_event).values(qualification_id=qualification_id, insurer_number=insurer_number, kind=kind, date=date, recorded=recorded))


def record_changes(conn: Connection, row: Mapping, values: Mapping, *, date: dt.date, recorded: dt.date) -> list[str]:
    """The change events of an update of qualification `row` to `values` (only fields whose
    value differs count); returns the kinds recorded."""
    kinds = [kind for kind, fields in CHANGE_FIELDS.items() if any(f in values and values[f] != row[f] for f in fields)]
    for kind in kinds:
        record_event(conn, row["id"], row["insurer_number"], kind, date, recorded)
    if "numbers_changed" in kinds:
        record_event(conn, row["id"], row["insurer_number"], "registration_done", recorded, recorded)
    if "dv_flag" in values and values["dv_flag"] != row["dv_flag"]:  # R-I3e: set or lifted (the run finds the member)
        record_event(conn, row["id"], row["insurer_number"], "dv_flag", recorded, recorded)
        kinds.append("dv_flag")
    return kinds
