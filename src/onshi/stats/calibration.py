"""The calibration table of the simulated nation (data/calibration.yaml): visit frequency by
age, and what patients bring by age band and month, each value with its source."""

from __future__ import annotations

import bisect
import datetime as dt
import hashlib
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path

import yaml

from ..domain.errors import InputError
from .definitions import BAND_NAMES

DEFAULT = Path(__file__).parent / "data" / "calibration.yaml"
DESK_DOCUMENTS = ("expired_insurance_card", "notice", "nothing")


def _month(value: object, where: str) -> dt.date:
    text = str(value)
    try:
        y, m = text.split("-")[:2]
        return dt.date(int(y), int(m), 1)
    except ValueError:
        raise InputError(where, f"'{value}' is not a month (YYYY-MM)") from None


def _by_month(table: dict, where: str) -> tuple[list[dt.date], list]:
    if not isinstance(table, dict) or not table:
        raise InputError(where, "needs at least one month")
    items = sorted((_month(k, where), v) for k, v in table.items())
    return [k for k, _ in items], [v for _, v in items]


def _bands(values: object, where: str) -> dict[str, float]:
    if not isinstance(values, dict) or set(map(str, values)) != set(BAND_NAMES):
        raise InputError(where, f"needs a value for each age band ({', '.join(BAND_NAMES)})")
    out = {str(k): float(v) for k, v in values.items()}
    if any(not 0 <= v for v in out.values()):
        raise InputError(where, "values must not be negative")
    return out


@dataclass
class Calibration:
    path: str
    digest: str  # SHA-256 of the file: a resumed month must use the same table
    data: dict

    @classmethod
    def load(cls, path: str | Path | None = None) -> "Calibration":
        file = Path(path) if path else DEFAULT
        try:
            raw = file.read_bytes()
        except OSError as exc:
            raise InputError("calibration", f"cannot read {file}: {exc.strerror}") from None
        try:
            data = yaml.safe_load(raw) or {}
        except yaml.YAMLError as exc:
            raise InputError("calibration", f"{file} is not valid YAML: {exc}") from None
        cal = cls(str(file), hashlib.sha256(raw).hexdigest(), data)
        cal._check()
        return cal

    def _check(self) -> None:
        d = self.data
        for key in ("visits", "card_use", "desk", "sources"):
            if not isinstance(d.get(key), dict):
                raise InputError(f"calibration.{key}", "is missing")
        v = d["visits"]
        self.rates = _bands(v.get("outpatient_rate_per_100000"), "calibration.visits.outpatient_rate_per_100000")
        self.care_days = float(v.get("care_days", 24))
        weights = v.get("weekday_weights", [1] * 7)
        if not isinstance(weights, list) or len(weights) != 7:
            raise InputError("calibration.visits.weekday_weights", "needs 7 weights (Monday … Sunday)")
        self.weekday_weights = [float(w) for w in weights]
        self.dental_share = float(v.get("dental_share", 0.15))
        self.pharmacy_after_medical = float(v.get("pharmacy_after_medical", 0.55))
        self.second_clinic = float(v.get("second_clinic", 0.25))
        self.use_months, uses = _by_month(d["card_use"].get("months"), "calibration.card_use.months")
        self.uses = [_bands(u, f"calibration.card_use.months.{m:%Y-%m}") for m, u in zip(self.use_months, uses)]
        desk = d["desk"]
        self.desk = desk
        self.identity = self._weighted(desk.get("identity", {"face": 1}), "calibration.desk.identity")
        device = dict(desk.get("device", {}))
        device["ok"] = max(0.0, 1 - sum(float(x) for x in device.values()))
        self.device = self._weighted(device, "calibration.desk.device")
        self.without_months, options = _by_month(desk.get("without_valid_document"), "calibration.desk.without_valid_document")
        for m, o in zip(self.without_months, options):
            if not isinstance(o, dict) or set(o) - set(DESK_DOCUMENTS):
                raise InputError(f"calibration.desk.without_valid_document.{m:%Y-%m}", f"keys: {', '.join(DESK_DOCUMENTS)}")
        self.without = options
        bulk = desk.get("bulk_inquiry", 0.0)
        if isinstance(bulk, dict):  # by month (the last month given applies), like card_use
            self.bulk_months, bulks = _by_month(bulk, "calibration.desk.bulk_inquiry")
        else:
            self.bulk_months, bulks = [dt.date(1900, 1, 1)], [bulk]
        try:
            self.bulks = [float(b) for b in bulks]
        except (TypeError, ValueError):
            raise InputError("calibration.desk.bulk_inquiry", "needs a chance (0–1) or a chance by month") from None
        if any(not 0 <= b <= 1 for b in self.bulks):
            raise InputError("calibration.desk.bulk_inquiry", "needs a chance (0–1) or a chance by month")
        for t in d.get("targets", []):
            if t.get("source") not in d["sources"]:
                raise InputError("calibration.targets", f"unknown source {t.get('source')}")

    @staticmethod
    def _weighted(table: dict, where: str) -> tuple[tuple[str, ...], list[float]]:
        if not isinstance(table, dict) or not table or any(float(v) < 0 for v in table.values()):
            raise InputError(where, "needs non-negative weights")
        return tuple(table), list(accumulate(float(v) for v in table.values()))

    # ------------------------------------------------------------ the values

    def _at(self, months: list[dt.date], values: list, month: dt.date):  # noqa: ANN202
        i = bisect.bisect_right(months, month) - 1
        return values[max(i, 0)]

    def card_use(self, month: dt.date, band: str) -> float:
        return self._at(self.use_months, self.uses, month)[band]

    def episodes(self, band: str) -> float:
        """Mean visit days (医科・歯科) per person and month."""
        return self.rates[band] * self.care_days / 100_000

    def without_valid_document(self, month: dt.date) -> dict[str, float]:
        return self._at(self.without_months, self.without, month)

    def bulk_inquiry(self, month: dt.date) -> float:
        """The chance that a facility checks an appointment the evening before (一括照会)."""
        return self._at(self.bulk_months, self.bulks, month)

    def p(self, name: str, default: float = 0.0) -> float:
        return float(self.desk.get(name, default))

    def targets(self) -> list[dict]:
        return list(self.data.get("targets", []))


__all__ = ["Calibration", "DEFAULT"]
