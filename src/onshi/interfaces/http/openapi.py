"""Every status and content type the API answers, in its OpenAPI document (issue 10 item 7).

The routes declare their success answers; this adds what every route may answer besides —
problem+json errors (the FHIR endpoint: OperationOutcome; the terminal XML endpoint: its
error file) — and the content types FastAPI cannot see (`Response` bodies). Schemathesis
checks the document against the running API (tests/test_schemathesis.py).
"""

from __future__ import annotations

from fastapi import FastAPI

PROBLEM = "application/problem+json"
PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "array", "maxItems": 100, "items": {
            "type": "object", "required": ["field", "reason"], "properties": {"field": {"type": "string"}, "reason": {"type": "string"}}}},
        "errors_total": {"type": "integer", "description": "all the errors found, when more than those listed"},
    },
}
REASONS = {
    400: "malformed request (a body that is not JSON, a bad Content-Length)",
    401: "no API key, or an unknown or revoked one",
    403: "the key may not do this (another role, another facility or insurer)",
    404: "not found (for a facility: also another facility's record)",
    409: "conflict with the registry's state or with a concurrent request: nothing stored",
    413: "the request body is larger than the route's limit",
    422: "invalid input: each error names its field",
    503: "the registry's database is busy or out of reach (or, for a lookup, its verification log could not be written): nothing stored; retry after Retry-After",
}
COMMON = (400, 401, 403, 404, 409, 413, 422, 503)  # 503: any route that reaches the database
SUCCESS_TYPES = {  # (path, status) → content types of a Response body
    ("/api/v1/claims/files/{billing_month}/{payer}", "200"): "text/plain; charset=Shift_JIS",
    ("/api/v1/claims/reviews/{run_id}/files/{payer}", "200"): "text/plain; charset=Shift_JIS",
}
REPLAYS = "/api/v1/insurers/"  # 201 when carried out, 200 when the request id was already used for it


def _problem(status: int) -> dict:
    return {"description": REASONS[status], "content": {PROBLEM: {"schema": PROBLEM_SCHEMA}}}


def document(app: FastAPI) -> None:
    base = app.openapi

    def openapi() -> dict:
        if app.openapi_schema:
            return app.openapi_schema
        spec = base()
        for path, operations in spec["paths"].items():
            for method, op in operations.items():
                _operation(path, method, op)
        app.openapi_schema = spec
        return spec

    app.openapi = openapi


def _operation(path: str, method: str, op: dict) -> None:
    responses = op.setdefault("responses", {})
    for (p, status), ctype in SUCCESS_TYPES.items():
        if p == path and status in responses:
            responses[status]["content"] = {ctype: {"schema": {"type": "string"}}}
    if path.startswith(REPLAYS) and method == "post":
        responses.setdefault("200", {"description": "the same request id again: the first answer (Idempotent-Replayed: true)",
                                     "content": {"application/json": {"schema": {"type": "object"}}}})
    if path == "/api/v1/health":
        return
    if path.startswith("/fhir/"):  # errors are OperationOutcome resources
        outcome = {"content": {"application/fhir+json": {"schema": {"type": "object"}}}}
        for status in (400, 401, 403, 404, 413, 422, 503):  # 404: a Coverage this facility has not verified
            responses[str(status)] = {"description": f"OperationOutcome: {REASONS[status]}", **outcome}
        return
    for status in COMMON:
        responses[str(status)] = _problem(status)
    if path.startswith("/oqs/"):  # the terminal's error file (SegmentOfResult 9) for another facility's code or a file too large
        for status in ("403", "413"):
            responses[status]["content"]["application/xml"] = {"schema": {"type": "string"}}
