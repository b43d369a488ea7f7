"""FHIR endpoints (application/fhir+json), with the JSON API's facility keys.

    GET  /fhir/r4/metadata                               CapabilityStatement (no key needed)
    GET  /fhir/r4/Coverage?identifier=…&beneficiary.birthdate=…   searchset Bundle (discovery.py)
    POST /fhir/r4/Coverage/_search                        the same, parameters in the form body
    GET  /fhir/r4/Coverage/{id}                           a Coverage this facility has verified
    POST /fhir/r4/CoverageEligibilityRequest/$submit   CoverageEligibilityRequest → CoverageEligibilityResponse

Errors are OperationOutcome: 401 (no or unknown key), 403 (not a facility key, or a
provider that is not the key's facility), 400 (not JSON, a bad search parameter), 404 (a
Coverage unknown or not verified by this facility: the two are not told apart), 413 (too
large), 422 (invalid request, each issue naming the element; an unknown insurer too).
Never 5xx for bad input.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

import orjson
from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from ...domain.errors import FieldError, Forbidden, InputError, ServiceError
from ...registry.reference import ReferenceNumbers
from ...registry.service import Principal, Registry
from ..common.keys import api_key
from .discovery import capability_statement, coverage_resource, parse_coverage_search, search_bundle
from .eligibility import operation_outcome, parse_request, response

FHIR_JSON = "application/fhir+json"
MAX_BODY = 64 * 1024
_CODES = {401: "login", 403: "forbidden", 404: "not-found", 413: "too-costly"}


def _fhir(body: dict, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type=FHIR_JSON)


def _problem(exc: ServiceError, default_field: str = "X-API-Key", default_code: str = "security") -> Response:
    return _fhir(operation_outcome([FieldError(exc.field or default_field, exc.reason)], code=_CODES.get(exc.status, default_code)), exc.status)


def _software_version() -> str:
    try:
        return version("onshi")
    except PackageNotFoundError:
        return "0"


def _base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/") + "/fhir/r4"


def router(registry: Registry) -> APIRouter:
    references = ReferenceNumbers(registry.engine, registry.reader)
    api = APIRouter(prefix="/fhir/r4", tags=["FHIR R4 (JP Core)"])

    def facility(request: Request) -> Principal:
        who = registry.authenticate(api_key(request.headers))
        if who.role != "facility":
            raise Forbidden("X-API-Key", "FHIR lookups need a facility key")
        return who

    def finder(facility_code: str):  # noqa: ANN202
        return lambda q: references.find(facility_code, q.insurer_number, q.symbol, q.number, q.branch)

    @api.get("/metadata", summary="CapabilityStatement（この FHIR サーバーが提供するもの）", response_class=Response,
             responses={200: {"content": {FHIR_JSON: {}}, "description": "CapabilityStatement"}})
    async def metadata(request: Request) -> Response:
        return _fhir(capability_statement(_base_url(request), _software_version()))

    def search_sync(facility_code: str, params: dict[str, list[str]], base_url: str) -> Response:
        try:
            search = parse_coverage_search(params)
        except InputError as exc:
            return _fhir(operation_outcome(exc.errors), 400)
        try:
            result = registry.lookup_by_numbers(facility_code, search.numbers, limit_consent=search.limit_consent, channel="fhir")
        except InputError as exc:  # an unknown insurer
            return _fhir(operation_outcome([FieldError("identifier", e.reason) for e in exc.errors]), 422)
        return _fhir(search_bundle(result, base_url, facility_code=facility_code, reference_number=finder(facility_code)))

    @api.get("/Coverage", summary="Coverage の検索（被保険者個人識別子＋生年月日 → searchset Bundle）", response_class=Response,
             responses={200: {"content": {FHIR_JSON: {}}, "description": "Bundle (searchset)"}})
    async def search_coverage(request: Request) -> Response:
        try:
            who = facility(request)
        except ServiceError as exc:
            return _problem(exc)
        params: dict[str, list[str]] = {}
        for k, v in request.query_params.multi_items():
            params.setdefault(k, []).append(v)
        return await run_in_threadpool(search_sync, who.subject, params, _base_url(request))

    @api.post("/Coverage/_search", summary="Coverage の検索（パラメータを本文で：個人情報を URL に載せない）", response_class=Response,
              responses={200: {"content": {FHIR_JSON: {}}, "description": "Bundle (searchset)"}},
              openapi_extra={"requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}}, "required": True}})
    async def search_coverage_post(request: Request) -> Response:
        try:
            who = facility(request)
        except ServiceError as exc:
            return _problem(exc)
        if int(request.headers.get("content-length") or 0) > MAX_BODY:
            return _fhir(operation_outcome([FieldError("body", f"is larger than {MAX_BODY // 1024} KiB")], code="too-costly"), 413)
        params: dict[str, list[str]] = {}
        for k, v in request.query_params.multi_items():
            params.setdefault(k, []).append(v)
        try:
            form = await request.form()
        except Exception:  # noqa: BLE001 - a body that is not a form is bad input, never a 5xx
            return _fhir(operation_outcome([FieldError("body", "must be application/x-www-form-urlencoded")], code="structure"), 400)
        for k, v in form.multi_items():
            if isinstance(v, str):
                params.setdefault(k, []).append(v)
        return await run_in_threadpool(search_sync, who.subject, params, _base_url(request))

    def read_sync(facility_code: str, coverage_id: str) -> Response:
        result = registry.lookup_verified_qualification(facility_code, int(coverage_id)) if coverage_id.isdigit() and len(coverage_id) < 19 else None
        if result is None or result.qualification is None:
            return _fhir(operation_outcome([FieldError("id", f"no Coverage/{coverage_id[:30]} that this facility has verified")], code="not-found"), 404)
        return _fhir(coverage_resource(result, facility_code=facility_code, reference_number=finder(facility_code)))

    @api.get("/Coverage/{coverage_id}", summary="Coverage の参照（この医療機関が資格確認した人のみ）", response_class=Response,
             responses={200: {"content": {FHIR_JSON: {}}, "description": "Coverage"}})
    async def read_coverage(request: Request, coverage_id: str) -> Response:
        try:
            who = facility(request)
        except ServiceError as exc:
            return _problem(exc)
        return await run_in_threadpool(read_sync, who.subject, coverage_id)

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
            return _problem(exc, "request", "invalid")
        return _fhir(response(result, query, facility_code=who_subject, reference_number=finder(who_subject)))

    @api.post(
        "/CoverageEligibilityRequest/$submit",
        summary="資格確認（FHIR CoverageEligibilityRequest → CoverageEligibilityResponse）",
        response_class=Response,
        responses={200: {"content": {FHIR_JSON: {}}, "description": "CoverageEligibilityResponse"}},
        openapi_extra={"requestBody": {"content": {FHIR_JSON: {"schema": {"type": "object"}}}, "required": True}},
    )
    async def submit(request: Request) -> Response:
        try:
            who = facility(request)
        except ServiceError as exc:
            return _problem(exc)
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > MAX_BODY:
                return _fhir(operation_outcome([FieldError("body", f"is larger than {MAX_BODY // 1024} KiB")], code="too-costly"), 413)
            chunks.append(chunk)
        return await run_in_threadpool(submit_sync, who.subject, b"".join(chunks))

    return api
