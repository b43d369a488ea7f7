"""Insurer issuance (../shared/domain/ISSUANCE.md): 資格確認書 and 資格情報のお知らせ sent ex
officio — who gets what on a run day, valid from and until when, and what stops being valid
(`engine`); case files (`case`, `runner`); printable documents (`printing`).

The engine is pure: `IssuanceEngine(policy).decide(member, insurer, day)` for one member,
`decide_many(...)` for a batch the run has read in one query; `apply_decision` is what the
registry records. The models are in `models`.
"""

from .engine import IssuanceEngine, apply_decision, decide, engine_for
from .models import (
    CERTIFICATE,
    NOTICE,
    REGISTRATION_NOTICE,
    Application,
    Card,
    Decision,
    Event,
    HeldDocument,
    Insurer,
    InsurerOptions,
    Member,
    NewDocument,
    Period,
    Qualification,
    Replacement,
)

__all__ = [
    "CERTIFICATE", "NOTICE", "REGISTRATION_NOTICE", "Application", "Card", "Decision", "Event", "HeldDocument", "Insurer",
    "InsurerOptions", "IssuanceEngine", "Member", "NewDocument", "Period", "Qualification", "Replacement", "apply_decision",
    "decide", "engine_for",
]
