"""An insurer's issuance settings in the registry (`issuance_setting`): its options of R-I3h and
R-I6c (a validated `InsurerOptions`, stored as `stored()` — only what the insurer set; the rest
is the policy default of its kind) and what it prints (the 資格確認書's form, 交付者名, the
return address). Written like every insurer operation: validated, idempotent under the
request id, only by the insurer itself (`operations.run`).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Connection, Engine, insert, select, update

from .. import config
from ..domain.errors import InputError
from ..registry import operations
from ..registry.models import RequestId
from ..registry.schema import insurer, issuance_setting
from .models import INSURER_KINDS, Insurer, InsurerOptions
from .printing.models import FORMS, Address, PrintInsurer

# The registry's insurer kinds (domain.numbers) as the engine names them: 船員保険 is `senin`;
# an insurer number of another 法別 is treated as an employee insurer (a 健保組合's defaults).
ENGINE_KIND = {"seaman": "senin", "other": "kumiai"}


def engine_kind(registry_kind: str) -> str:
    kind = ENGINE_KIND.get(registry_kind, registry_kind)
    return kind if kind in INSURER_KINDS else "kumiai"


class IssuanceSettings(BaseModel):
    """The body of PUT …/issuance-settings: options (R-I3h, R-I6c) and print settings."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    request_id: str = RequestId
    options: InsurerOptions = Field(default_factory=InsurerOptions, description="unset options take the policy default of the insurer's kind")
    certificate_form: Literal["card", "postcard", "a4"] = Field("card", description="the 資格確認書 form printed (seed 002: カード型・はがき型・A4型)")
    issuer_name: str | None = Field(None, min_length=1, max_length=100, description="交付者名 printed on documents (default: from the insurer's name)")
    sender_postcode: str | None = Field(None, pattern=r"^\d{3}-?\d{4}$")
    sender_address: str | None = Field(None, min_length=1, max_length=200)
    phone: str | None = Field(None, pattern=r"^[0-9０-９\-‐ ()（）]{6,20}$")


@dataclass(frozen=True)
class Settings:
    """What the run and the printing read for one insurer."""

    number: str
    name: str
    kind: str  # the engine's kind (INSURER_KINDS)
    options: InsurerOptions
    certificate_form: str = "card"
    issuer_name: str | None = None
    sender_postcode: str | None = None
    sender_address: str | None = None
    phone: str | None = None
    updated: dt.date | None = None  # the day (JST) the settings were last written

    @property
    def insurer(self) -> Insurer:
        return Insurer(self.number, self.kind, self.options)

    @property
    def print_insurer(self) -> PrintInsurer:
        address = Address(self.sender_postcode, self.sender_address) if self.sender_address and self.sender_postcode else None
        return PrintInsurer(self.number, self.kind, self.name, self.issuer_name or default_issuer_name(self.name, self.kind), address, self.phone,
                            self.certificate_form if self.certificate_form in FORMS else "card")

    def to_json(self) -> dict:
        return {
            "insurer_number": self.number, "kind": self.kind, "options": self.options.stored(), "certificate_form": self.certificate_form,
            "issuer_name": self.issuer_name or default_issuer_name(self.name, self.kind), "sender_postcode": self.sender_postcode,
            "sender_address": self.sender_address, "phone": self.phone,
        }


def default_issuer_name(name: str, kind: str) -> str:
    """交付者名 when the insurer set none: the head of the insurer (〇〇区長, 〇〇広域連合長, 〇〇健康保険組合 理事長)."""
    if kind in ("kokuho", "kouki", "kyokai"):
        return f"{name}長"
    return f"{name} 理事長"


_COLUMNS = (insurer.c.number, insurer.c.name, insurer.c.kind, issuance_setting.c.options, issuance_setting.c.certificate_form,
            issuance_setting.c.issuer_name, issuance_setting.c.sender_postcode, issuance_setting.c.sender_address, issuance_setting.c.phone,
            issuance_setting.c.updated_at)


def _settings(row) -> Settings:  # noqa: ANN001
    updated = row.updated_at
    if updated is not None:
        updated = (updated if updated.tzinfo else updated.replace(tzinfo=dt.timezone.utc)).astimezone(config.JST).date()
    return Settings(row.number, row.name, engine_kind(row.kind), InsurerOptions.model_validate(json.loads(row.options or "{}")),
                    row.certificate_form or "card", row.issuer_name, row.sender_postcode, row.sender_address, row.phone, updated)


def read_settings(conn: Connection, numbers: list[str] | None = None) -> dict[str, Settings]:
    """Settings of the given insurers (None: every insurer), an unset insurer with the defaults."""
    query = select(*_COLUMNS).select_from(insurer.outerjoin(issuance_setting, issuance_setting.c.insurer_number == insurer.c.number))
    if numbers is not None:
        query = query.where(insurer.c.number.in_(numbers))
    return {row.number: _settings(row) for row in conn.execute(query)}


def settings_of(engine: Engine, number: str) -> Settings | None:
    with engine.connect() as conn:
        return read_settings(conn, [number]).get(number)


def _write(conn: Connection, insurer_number: str, p: IssuanceSettings, today: dt.date) -> dict:
    values = {
        "options": json.dumps(p.options.stored(), ensure_ascii=False, sort_keys=True), "certificate_form": p.certificate_form,
        "issuer_name": p.issuer_name, "sender_postcode": p.sender_postcode, "sender_address": p.sender_address, "phone": p.phone,
        "updated_at": config.now(),
    }
    if (p.sender_postcode is None) != (p.sender_address is None):
        raise InputError("sender_address", "the return address and its postcode go together")
    exists = conn.execute(select(issuance_setting.c.insurer_number).where(issuance_setting.c.insurer_number == insurer_number)).first()
    if exists is None:
        conn.execute(insert(issuance_setting).values(insurer_number=insurer_number, **values))
    else:
        conn.execute(update(issuance_setting).where(issuance_setting.c.insurer_number == insurer_number).values(**values))
    return read_settings(conn, [insurer_number])[insurer_number].to_json()


HANDLERS = {"issuance_settings": (_write, IssuanceSettings)}


def write_settings(engine: Engine, insurer_number: str, data: object) -> operations.OperationResult:
    """Set an insurer's issuance settings (replaces them whole); idempotent under request_id."""
    return operations.run(engine, insurer_number, "issuance_settings", data, handlers=HANDLERS)
