"""Loading and querying the dated policy data."""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from ..domain.card import CardPolicy

DATA = Path(__file__).parent / "data"
SOURCES_FILE = "sources.yaml"
CATALOG_FILE = "rules.yaml"


class PolicyError(ValueError):
    """A policy file that cannot be used; names the file and the entry."""


@dataclass(frozen=True)
class Source:
    key: str
    title: str  # as the notice prints it (a seed's title is checked against the seed)
    date: dt.date | None  # None only for a public page that shows no date
    issuer: str
    seed: str | None = None
    public: bool = False
    number: str | None = None  # the document number printed beside the title (日医発第2086号（保険）)

    def cite(self) -> str:
        where = f"（{self.seed}）" if self.seed else "（公開資料）"
        number = f"（{self.number}）" if self.number else ""
        date = self.date.isoformat() if self.date else ""
        return f"{self.issuer}「{self.title}」{number}{date}{where}"


@dataclass(frozen=True)
class Entry:
    name: str  # the rule's name in the files (interim_acceptance)
    rule: str  # its RULES.md id (R-T1)
    start: dt.date
    end: dt.date | None
    value: object
    source: Source
    note: str = ""
    scope: dict = field(default_factory=dict)  # further keys (insurers, documents)
    file: str = ""

    def in_force(self, day: dt.date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class Rule:
    name: str
    rule: str
    description: str
    entries: tuple[Entry, ...]


def _date(value: object, where: str) -> dt.date | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise PolicyError(f"{where}: '{value}' is not a date (YYYY-MM-DD)") from None


def _read(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise PolicyError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise PolicyError(f"{path}: must be a mapping of rule names")
    return data


class Policy:
    def __init__(self, rules: dict[str, Rule], sources: dict[str, Source], files: list[str], catalog: dict[str, dict] | None = None):
        self.rules = rules
        self.sources = sources
        self.files = files
        self.catalog = catalog or {}
        self.withdrawn: list[tuple[str, str, str]] = []  # (rule name, source key, file) withdrawn by a later file

    def title(self, rule_id: str) -> str:
        return self.catalog.get(rule_id, {}).get("title", rule_id)

    def seeds(self, rule_id: str) -> list[str]:
        return [str(s) for s in self.catalog.get(rule_id, {}).get("seeds", [])]

    @classmethod
    def load(cls, extra_dirs: list[Path] | None = None) -> "Policy":
        dirs = [DATA, *(extra_dirs or [])]
        files = [p for d in dirs for p in sorted(Path(d).glob("*.yaml"))]
        raw_sources: dict[str, tuple[dict, Path]] = {}
        raw_rules: dict[str, list[tuple[dict, Path]]] = {}
        catalog: dict[str, dict] = {}
        for path in files:
            data = _read(path)
            if path.name == CATALOG_FILE:
                catalog.update(data.get("catalog", {}))
                continue
            if path.name == SOURCES_FILE or data.get("sources"):
                for key, value in (data.get("sources") if path.name != SOURCES_FILE else data).items():
                    raw_sources[key] = (value, path)
                if path.name == SOURCES_FILE:
                    continue
            for name, value in data.items():
                if name == "sources":
                    continue
                raw_rules.setdefault(name, []).append((value, path))
        sources = {}
        for key, (value, path) in raw_sources.items():
            where = f"{path.name}: source {key}"
            if not isinstance(value, dict) or not value.get("title") or not value.get("issuer"):
                raise PolicyError(f"{where}: needs title, issuer and date")
            if value.get("date") is None and not value.get("public"):
                raise PolicyError(f"{where}: needs a date (only a public page may have none)")
            sources[key] = Source(
                key, value["title"], _date(value.get("date"), where), value["issuer"], value.get("seed"), bool(value.get("public")), value.get("number")
            )
        rules = {}
        withdrawn: list[tuple[str, str, str]] = []
        for name, parts in raw_rules.items():
            rule_id, description, entries = "", "", []
            for value, path in parts:
                if not isinstance(value, dict) or not isinstance(value.get("entries", []), list):
                    raise PolicyError(f"{path.name}: {name} needs a list of entries")
                if "entries" not in value and "withdraw" not in value:
                    raise PolicyError(f"{path.name}: {name} needs a list of entries (or withdraw)")
                # A later file may withdraw the entries of earlier files that cite a source (a
                # notice revoked, or a what-if "without that notice"): `withdraw: [source key…]`.
                withdraw = value.get("withdraw", [])
                if not isinstance(withdraw, list) or any(k not in sources for k in withdraw):
                    raise PolicyError(f"{path.name}: {name}.withdraw must list known source keys")
                entries = [e for e in entries if e.source.key not in withdraw]
                withdrawn += [(name, k, path.name) for k in withdraw]
                rule_id = value.get("rule", rule_id)
                description = value.get("description", description)
                for i, e in enumerate(value.get("entries", [])):
                    where = f"{path.name}: {name}.entries[{i}]"
                    if not isinstance(e, dict):
                        raise PolicyError(f"{where}: must be a mapping")
                    start, end = _date(e.get("from"), where + ".from"), _date(e.get("to"), where + ".to")
                    if start is None:
                        raise PolicyError(f"{where}: needs a 'from' date")
                    if end is not None and end < start:
                        raise PolicyError(f"{where}: 'to' is before 'from'")
                    if e.get("source") not in sources:
                        raise PolicyError(f"{where}: unknown source '{e.get('source')}' (define it under sources)")
                    scope = {k: v for k, v in e.items() if k not in ("from", "to", "value", "source", "note")}
                    entries.append(Entry(name, rule_id, start, end, e.get("value"), sources[e["source"]], e.get("note", ""), scope, path.name))
            rules[name] = Rule(name, rule_id, description, tuple(sorted(entries, key=lambda x: (x.start, x.end or dt.date.max))))
        policy = cls(rules, sources, [str(f) for f in files], catalog)
        policy.withdrawn = withdrawn
        return policy

    def entries(self, name: str, day: dt.date) -> list[Entry]:
        rule = self.rules.get(name)
        if rule is None:
            raise KeyError(f"no policy rule named {name}")
        return [e for e in rule.entries if e.in_force(day)]

    def current(self, name: str, day: dt.date) -> Entry | None:
        """The entry in force that started last (a later notice overrides an earlier one)."""
        found = self.entries(name, day)
        return found[-1] if found else None

    def value(self, name: str, day: dt.date, default: object = None) -> object:
        entry = self.current(name, day)
        return default if entry is None else entry.value

    def at(self, day: dt.date) -> "Snapshot":
        return Snapshot(self, day)


@dataclass(frozen=True)
class Snapshot:
    """What is in force on one day."""

    policy: Policy
    day: dt.date

    @property
    def card(self) -> CardPolicy:
        return CardPolicy(grace_months=int(self.policy.value("grace_months", self.day, 3)), alert_months=int(self.policy.value("alert_months", self.day, 3)))

    def interim(self, document: str, insurer_kind: str) -> Entry | None:
        """R-T1: the entry that admits `document` (expired_insurance_card | notice_only) for
        an insurer of `insurer_kind` on this day, if any."""
        for entry in reversed(self.policy.entries("interim_acceptance", self.day)):
            insurers = entry.scope.get("insurers", "all")
            if document in entry.scope.get("documents", []) and (insurers == "all" or insurer_kind in insurers):
                return entry
        return None

    @property
    def unknown_numbers(self) -> dict:
        return dict(self.policy.value("unknown_insurer_numbers", self.day, {"insurer": "77777777", "insurer_check_digit": "77777779", "fill": "7"}))

    @property
    def paper_facility_documents(self) -> list[frozenset[str]]:
        return [frozenset(x) for x in self.policy.value("paper_facility_documents", self.day, [])]

    @property
    def deadlines(self) -> dict:
        return dict(self.policy.value("registration_deadline_days", self.day, {"acquisition": 5, "change": 10, "loss": 10}))

    @property
    def kouki_certificates(self) -> Entry | None:
        return self.policy.current("kouki_certificates", self.day)

    def in_force(self) -> list[Entry]:
        return [e for rule in self.policy.rules.values() for e in rule.entries if e.in_force(self.day)]


def policy_dirs() -> list[Path]:
    value = os.environ.get("ONSHI_POLICY_DIR", "")
    return [Path(p) for p in value.split(os.pathsep) if p]


@lru_cache(maxsize=8)
def _cached(dirs: tuple[str, ...], stamps: tuple[float, ...]) -> Policy:
    return Policy.load([Path(d) for d in dirs])


_last: dict[tuple[str, ...], tuple[float, Policy]] = {}


def load_policy(extra_dirs: list[Path] | None = None) -> Policy:
    """The built-in policy plus ONSHI_POLICY_DIR (or `extra_dirs`); reloaded when a file
    changes (files are looked at no more than once a second)."""
    dirs = extra_dirs if extra_dirs is not None else policy_dirs()
    key = tuple(str(d) for d in dirs)
    seen = _last.get(key)
    if seen is not None and time.monotonic() - seen[0] < 1.0:
        return seen[1]
    stamps = tuple(p.stat().st_mtime for d in [DATA, *dirs] for p in sorted(Path(d).glob("*.yaml")))
    policy = _cached(key, stamps)
    _last[key] = (time.monotonic(), policy)
    return policy
