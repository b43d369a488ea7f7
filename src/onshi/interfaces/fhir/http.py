"""FHIR endpoints (application/fhir+json), with the JSON API's facility keys.

    POST /fhir/r4/CoverageEligibilityRequest/$submit   CoverageEligibilityRequest → CoverageEligibilityResponse

Errors are OperationOutcome: 401 (no or unknown key), 403 (not a facility key, or a
provider that is not the key's facility), 400 (not JSON), 413 (too large), 422 (invalid
request, each issue naming the element; an unknown insurer too). Never 5xx for bad input.
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ...domain.errors import FieldError, Forbidden, InputError, ServiceError
from ...registry.reference import ReferenceNumbers
from ...registry.service import Registry
from ..common.keys import api_key
from .eligibility import operation_outcome, parse_request, response

FHIR_JSON = "application/fhir+json"
MAX_BODY = 64 * 1024
_CODES = {401: "login", 403: "forbidden", 404: "not-found", 413: "too-costly"}


def _fhir(body: dict, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=FHIR_JSON)


def router(registry: Registry) -> APIRouter:
    references = ReferenceNumbers(registry.engine, registry.reader)
    api = APIRouter(prefix="/fhir/r4", tags=["FHIR R4 (JP Core)"])

    def submit_sync(who_subject: str, data: bytes) -> Response:
        try:
            body = orjson.loads(data)
        except orjson.JSONDecodeError:
            return _fhir(operation_outcome([FieldError("body", "is not valid JSON")], code="structure"), 400)
        try:
            query = parse_request(body, who_subject)
            if query.card_serial is not None:
                result = registry.lookup_by_card(who_subject, query.card_serial, identity=query.identity, day=query.as_of,
                                                 limit_consent=query.limit_consent, channel="fhir")
            else:
                result = registry.lookup_by_numbers(who_subject, query.numbers, day=query.as_of, limit_consent=query.limit_consent, channel="fhir")
        except InputError as exc:
            return _fhir(operation_outcome(exc.errors), 422)
        except ServiceError as exc:
            return _fhir(operation_outcome([FieldError(exc.field or "request", exc.reason)], code=_CODES.get(exc.status, "invalid")), exc.status)

        def finder(q):  # noqa: ANN001, ANN202
            return references.find(who_subject, q.insurer_number, q.symbol, q.number, q.branch)

        return _fhir(response(result, query, facility_code=who_subject, reference_number=finder))

    @api.post(
        "/CoverageEligibilityRequest/$submit",
        summary="資格確認（FHIR CoverageEligibilityRequest → CoverageEligibilityResponse）",
        response_class=Response,
        responses={200: {"content": {FHIR_JSON: {}}, "description": "CoverageEligibilityResponse"}},
        openapi_extra={"requestBody": {"content": {FHIR_JSON: {"schema": {"type": "object"}}}, "required": True}},
    )
    async def submit(request: Request) -> Response:
        try:
            who = registry.authenticate(api_key(request.headers))
            if who.role != "facility":
                raise Forbidden("X-API-Key", "eligibility requests need a facility key")
        except ServiceError as exc:
            return _fhir(operation_outcome([FieldError(exc.field or "X-API-Key", exc.reason)], code=_CODES.get(exc.status, "security")), exc.status)
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY:
                return _fhir(operation_outcome([FieldError("body", f"is larger than {MAX_BODY // 1024} KiB")], code="too-costly"), 413)
            chunks.append(chunk)
        return await run_in_threadpool(submit_sync, who.subject, b"".join(chunks))

    return api
