"""Errors as RFC 9457 problem+json. Bad input is always a 4xx naming the field; the
submitted values are never echoed (they may hold a 個人番号)."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from ...domain.errors import FieldError, InputError, ServiceError
from ...registry.models import validation_errors
from .fastpath import problem_body

log = logging.getLogger("onshi.http")


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
        headers = {"WWW-Authenticate": "ApiKey"} if exc.status == 401 else None
        return problem(exc.status, exc.title, str(exc), errors, headers)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> Response:
        return problem(exc.status_code, str(exc.detail), str(exc.detail))


__all__ = ["install", "problem", "validation_errors"]
