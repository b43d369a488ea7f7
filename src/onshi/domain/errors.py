"""Input errors that name the offending field."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldError:
    field: str
    reason: str

    def __str__(self) -> str:
        return f"{self.field}: {self.reason}"


SHOWN = 20  # errors spelled out in an InputError's message (all stay in `errors`)


class InputError(ValueError):
    """Bad input. Carries one or more (field, reason) pairs; nothing must be stored."""

    def __init__(self, errors: list[FieldError] | FieldError | str, reason: str | None = None):
        if isinstance(errors, str):
            errors = [FieldError(errors, reason or "invalid")]
        elif isinstance(errors, FieldError):
            errors = [errors]
        self.errors: list[FieldError] = list(errors)
        shown = "; ".join(str(e) for e in self.errors[:SHOWN])  # bounded: a hostile file may carry millions
        more = len(self.errors) - SHOWN
        super().__init__(shown + (f"; … and {more} more" if more > 0 else ""))

    def prefixed(self, prefix: str) -> "InputError":
        return InputError([FieldError(f"{prefix}.{e.field}" if prefix else e.field, e.reason) for e in self.errors])


def collect(*checks) -> None:
    """Run zero-argument callables; raise one InputError carrying every failure."""
    errors: list[FieldError] = []
    for check in checks:
        try:
            check()
        except InputError as exc:
            errors.extend(exc.errors)
    if errors:
        raise InputError(errors)


class ServiceError(Exception):
    """A request that is well-formed but cannot be carried out; `status` is the HTTP code."""

    status = 400
    title = "Bad request"

    def __init__(self, field: str | None, reason: str):
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}" if field else reason)


class Unauthorized(ServiceError):
    status = 401
    title = "Missing or unknown API key"


class Forbidden(ServiceError):
    status = 403
    title = "Not allowed for this key"


class NotFound(ServiceError):
    status = 404
    title = "Not found"


class Conflict(ServiceError):
    status = 409
    title = "Conflict"
