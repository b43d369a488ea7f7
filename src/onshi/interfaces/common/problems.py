"""Errors as RFC 9457 problem+json, for every router and the lookup fast path. Bad input is
always a 4xx naming the field; the submitted values are never echoed (they may hold a 個人番号)."""

from __future__ import annotations

import logging

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from ...domain.errors import FieldError, InputError, ServiceError
from ...registry.db import is_retryable, is_unavailable
from ...registry.models import validation_errors

log = logging.getLogger("onshi.http")
PROBLEM = b"application/problem+json"


RETRY_AFTER = "1"  # seconds, on a 503: the database was busy or out of reach for a moment
UNAVAILABLE = "the registry's database is busy or out of reach: nothing was stored; send the request again"
MAX_ERRORS = 100  # field errors in one answer; then a count (a hostile file can have millions)
MAX_DETAIL = 2000  # characters of `detail`


def status_headers(status: int) -> dict[str, str]:
    """The headers an error status carries: the scheme on a 401, when to retry on a 503."""
    return {"WWW-Authenticate": "ApiKey"} if status == 401 else {"Retry-After": RETRY_AFTER} if status == 503 else {}


def problem_body(status: int, title: str, detail: str, errors: list[FieldError] | None = None) -> bytes:
    """The problem+json body, bounded whatever the caller passes: the first MAX_ERRORS field
    errors and `errors_total`, `detail` cut at MAX_DETAIL characters."""
    if len(detail) > MAX_DETAIL:
        detail = detail[:MAX_DETAIL] + "…"
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = [{"field": e.field[:200], "reason": e.reason[:500]} for e in errors[:MAX_ERRORS]]
        if len(errors) > MAX_ERRORS:
            body["errors_total"] = len(errors)
    return orjson.dumps(body)


def error_response(exc: Exception) -> tuple[int, bytes, bytes]:
    if isinstance(exc, InputError):
        return 422, PROBLEM, problem_body(422, "Invalid request", str(exc), exc.errors)
    if isinstance(exc, ServiceError):
        errors = [FieldError(exc.field, exc.reason)] if exc.field else None
        return exc.status, PROBLEM, problem_body(exc.status, exc.title, str(exc), errors)
    if is_unavailable(exc):
        log.warning("database unavailable: %s", type(exc).__name__)
        return 503, PROBLEM, problem_body(503, "Service unavailable", UNAVAILABLE)
    raise exc


def problem(status: int, title: str, detail: str, errors: list[FieldError] | None = None, headers: dict | None = None) -> Response:
    return Response(problem_body(status, title, detail, errors), status_code=status, media_type="application/problem+json", headers=headers)


def _request_errors(exc: RequestValidationError) -> list[FieldError]:
    out = []
    for e in exc.errors():
        loc = [str(p) for p in e.get("loc", ()) if p not in ("body", "query", "path", "header")]
        msg = str(e.get("msg", "invalid")).removeprefix("Value error, ")
        if not loc and ": " in msg:
            field, msg = msg.split(": ", 1)
            loc = [field]
        if e.get("type") == "json_invalid":
            loc, msg = ["body"], "is not valid JSON"
        out.append(FieldError(".".join(loc) or "body", msg))
    return out


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> Response:
        errors = _request_errors(exc)
        return problem(422, "Invalid request", "; ".join(str(e) for e in errors), errors)

    @app.exception_handler(InputError)
    async def _input(_request: Request, exc: InputError) -> Response:
        return problem(422, "Invalid request", str(exc), exc.errors)

    @app.exception_handler(ServiceError)
    async def _service(_request: Request, exc: ServiceError) -> Response:
        errors = [FieldError(exc.field, exc.reason)] if exc.field else None
        return problem(exc.status, exc.title, str(exc), errors, status_headers(exc.status))

    @app.exception_handler(DBAPIError)
    async def _database(_request: Request, exc: DBAPIError) -> Response:
        # A write that lost to a concurrent one (a unique index, a serialization failure) is a
        # conflict for the client to retry, never a 500; any other database error stays one.
        if is_retryable(exc):
            return problem(409, "Conflict", "a concurrent request changed the same data; send the request again")
        return _unavailable(exc)

    @app.exception_handler(PoolTimeout)
    async def _pool(_request: Request, exc: PoolTimeout) -> Response:
        return _unavailable(exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> Response:
        return problem(exc.status_code, str(exc.detail), str(exc.detail))


def _unavailable(exc: Exception) -> Response:
    """503 with Retry-After when the database could not take the work (is_unavailable); any
    other error is re-raised (a 500: a defect, not the client's to retry)."""
    if not is_unavailable(exc):
        raise exc
    log.warning("database unavailable: %s", type(exc).__name__)
    return problem(503, "Service unavailable", UNAVAILABLE, headers=status_headers(503))


__all__ = ["install", "problem", "validation_errors"]
