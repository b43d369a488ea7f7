"""R-I2: before a My Number link is trusted, the insurer's data is compared with the
resident register (住民基本台帳). Birth date and sex must be equal; names, kana and the
address are compared after folding variants (see domain.names)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Connection, select

from ..domain import names
from ..domain.errors import FieldError, InputError
from .schema import resident

MISMATCH = "does not match the resident register (住民基本台帳)"


def check_linkage(
    conn: Connection,
    my_number_hash: str,
    *,
    name: str | None = None,
    kana: str | None = None,
    birth_date: dt.date | None = None,
    sex: int | None = None,
    address: str | None = None,
) -> None:
    """Raise InputError naming every field that differs; fields passed as None are not compared."""
    row = conn.execute(select(resident).where(resident.c.my_number_hash == my_number_hash)).mappings().first()
    if row is None:
        raise InputError("my_number", "is not in the resident register (住民基本台帳)")
    errors = []
    if name is not None and not names.same_name(name, row["name"]):
        errors.append(FieldError("name", MISMATCH))
    if kana is not None and not names.same_kana(kana, row["kana"]):
        errors.append(FieldError("kana", MISMATCH))
    if birth_date is not None and birth_date != row["birth_date"]:
        errors.append(FieldError("birth_date", MISMATCH))
    if sex is not None and sex != row["sex"]:
        errors.append(FieldError("sex", MISMATCH))
    if address and not names.same_address(address, row["address"]):
        errors.append(FieldError("address", MISMATCH))
    if errors:
        raise InputError(errors)
